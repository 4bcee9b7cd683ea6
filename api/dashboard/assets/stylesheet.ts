/** dashboard.css (served by api/dashboard/assets.ts; text here for the same reason as dashboard.js). */
export const STYLESHEET = String.raw`:root { --fg: #1d2330; --muted: #6b7385; --bg: #f6f7f9; --card: #fff; --line: #dde1e8; --accent: #2458c7;
  --ok: #1f7a3f; --bad: #b3261e; --warn: #9a6700; --run: #2458c7; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font-size: 14px; line-height: 1.45; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #172033; color: #fff; }
header.top a { color: #cfd8ea; }
header.top a[aria-current="page"] { color: #fff; font-weight: 600; border-bottom: 2px solid #7aa2f7; }
header.top nav { display: flex; gap: 1rem; flex: 1; }
.brand { font-weight: 700; color: #fff !important; letter-spacing: .02em; }
.session { color: #cfd8ea; font-size: 13px; }
.session .muted { color: #aab4c8; }
main { padding: 1rem 1.2rem 3rem; max-width: 1400px; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
h4 { font-size: .9rem; margin: .6rem 0 .2rem; }
section, article.cycle { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .2rem 1rem .8rem; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; word-break: break-all; }
.muted { color: var(--muted); }
.reason { white-space: pre-wrap; word-break: break-word; }
td.reason { max-width: 36rem; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 9px; font-size: 12px; background: #e8ebf1; color: #39415a; }
.s-completed { background: #dcf2e3; color: var(--ok); }
.s-failed { background: #fbe2e0; color: var(--bad); }
.s-cancelled, .s-superseded { background: #eceef2; color: #555d70; }
.s-blocked, .s-paused { background: #fff1cf; color: var(--warn); }
.s-building, .s-publishing, .s-queued { background: #dfe8fb; color: var(--run); }
ul.counts { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
ul.counts li a { display: inline-flex; gap: .4rem; align-items: center; padding: .3rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: #fafbfc; color: var(--fg); }
ul.builders, ul.plain { list-style: none; padding: 0; margin: 0; }
ul.builders li { padding: .15rem 0; }
.slots { display: inline-flex; gap: 2px; vertical-align: middle; }
.slot { display: inline-block; width: 12px; height: 12px; border-radius: 2px; background: #dfe3ea; }
.slot.busy { background: var(--run); }
tr.gone, li.gone { opacity: .55; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: .6rem 0; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; }
pre.log { background: #0f1420; color: #d7dce6; padding: .8rem; border-radius: 6px; overflow-x: auto; font-size: 12.5px; min-height: 4rem; max-height: none; white-space: pre-wrap; word-break: break-all; }
pre.reason { background: #fff6f5; border: 1px solid #f2c9c5; padding: .6rem; border-radius: 6px; }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: end; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; margin-bottom: 1rem; }
form.filters fieldset { border: 0; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .3rem .6rem; }
form.filters legend { color: var(--muted); font-size: 12px; }
form.inline { display: inline-flex; gap: .3rem; align-items: center; }
form.inline input { width: 6rem; }
input, select, button { font: inherit; padding: .25rem .45rem; border: 1px solid #c5cbd6; border-radius: 4px; background: #fff; }
button { cursor: pointer; background: #eef2fa; }
button:hover { background: #e1e8f7; }
button.link { background: none; border: 0; color: #cfd8ea; padding: 0; }
.admin { display: none !important; }
body.signed-in .admin { display: inline-flex !important; }
body.signed-in button.admin { display: inline !important; }
body.signed-in #login-link { display: none; }
.actions { gap: .5rem; margin: .4rem 0 .8rem; align-items: center; flex-wrap: wrap; }
#flash { padding: 0 1.2rem; min-height: 1.6rem; line-height: 1.6rem; }
#flash.ok { background: #dcf2e3; color: var(--ok); }
#flash.error { background: #fbe2e0; color: var(--bad); }
.pager { margin-top: .6rem; display: flex; gap: 1rem; }
.wave { display: flex; align-items: center; gap: .5rem; margin: .3rem 0; }
.wave progress { width: 20rem; }
form.login { max-width: 36rem; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem; }
form.login input { width: 100%; margin: .3rem 0 .6rem; }
`;
