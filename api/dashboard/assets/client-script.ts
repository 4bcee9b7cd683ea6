/**
 * dashboard.js, the dashboard's own script (served by api/dashboard/assets.ts; text here because the build copies
 * only compiled TypeScript into dist/). It never builds markup from data: every value from the API goes into the
 * page as a text node (textContent, append of a string), so log lines and names cannot become HTML. No inline
 * handlers, no eval: the page's Content-Security-Policy allows neither.
 *
 * - sign-in: the token is checked with GET /api/tokens/self and kept in sessionStorage (this tab only, never a cookie);
 *   admin actions, htmx's refreshes and the script's own reads send it as `Authorization: Bearer`;
 * - closed reads (SUMMIT_API_PUBLIC_READS `summary` or `none`): a page asked for without a token answers the sign-in
 *   prompt (`data-gate`); holding a token (or once signed in there), the script reads the same URL with it and
 *   puts that page in place of the prompt;
 * - admin actions: buttons and forms with data-action and data-url POST there, then the live regions refresh;
 * - the live log: `GET <log>?follow=1` as Server-Sent Events (`log` or unnamed events of whole lines, `reset` when
 *   a new attempt starts the log over, `end` when it is complete; the browser resumes a cut stream after the last
 *   event's id); holding a token, the same stream read with fetch (EventSource cannot send the header) and resumed
 *   with `&from=` the last id; where that is not served, the last lines are polled (`?tail=`) while the task runs;
 * - waves: GET /api/waves when the API has it, the current ones as progress bars with the estimate; a note otherwise.
 */
export const CLIENT_SCRIPT = String.raw`'use strict';
(function () {
  var TOKEN = 'summit.token';
  var WHO = 'summit.who';
  var RUNNING = ['queued', 'building', 'publishing', 'new', 'blocked'];

  function $(selector) { return document.querySelector(selector); }
  function token() { try { return sessionStorage.getItem(TOKEN); } catch (e) { return null; } }
  // Headers with the tab's token, when it holds one: every read of ours may need it (closed reads).
  function withToken(headers) {
    var h = headers || {};
    var bearer = token();
    if (bearer) h.Authorization = 'Bearer ' + bearer;
    return h;
  }
  // htmx's live-region refreshes carry the token too.
  document.addEventListener('htmx:configRequest', function (event) {
    var bearer = token();
    if (bearer) event.detail.headers.Authorization = 'Bearer ' + bearer;
  });

  function forget() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(WHO);
  }

  // A page behind the sign-in prompt: read it again with the token and put it in place of the prompt.
  function openGate() {
    var note = $('#gate-state');
    if (note) note.textContent = 'Reading the page with the token of this tab…';
    fetch(location.pathname + location.search, { headers: withToken({ Accept: 'text/html' }), cache: 'no-store' }).then(function (res) {
      return res.text().then(function (text) {
        var doc = new DOMParser().parseFromString(text, 'text/html');
        if (res.status === 401) {
          var why = doc.querySelector('[data-gate-reason]');
          forget();
          showSession();
          if (note) note.textContent = 'The token of this tab was refused (' + (why ? why.textContent : 'HTTP 401') + '); sign in again.';
          return;
        }
        document.title = doc.title;
        document.body.replaceWith(document.importNode(doc.body, true));
        if (window.htmx) window.htmx.process(document.body);
        start();
      });
    }, function (err) { if (note) note.textContent = 'The API did not answer: ' + err; });
  }

  function flash(text, kind) {
    var el = $('#flash');
    if (!el) return;
    el.textContent = text;
    el.className = kind || '';
  }

  function showSession() {
    var who = null;
    try { who = JSON.parse(sessionStorage.getItem(WHO) || 'null'); } catch (e) { who = null; }
    var signedIn = Boolean(token());
    document.body.classList.toggle('signed-in', signedIn);
    var el = $('#who');
    if (el) el.textContent = signedIn && who ? 'signed in as ' + who.name + ' (' + who.role + ')' : 'not signed in';
  }

  function errorText(res, body) {
    if (body && body.error && typeof body.error.message === 'string') return res.status + ': ' + body.error.message;
    return 'HTTP ' + res.status;
  }

  function readJson(res) {
    return res.text().then(function (text) {
      try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
    });
  }

  function refreshLive() {
    if (window.htmx) window.htmx.trigger(document.body, 'refresh');
  }

  // Sign-in and sign-out.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.id === 'login-form') {
      event.preventDefault();
      var value = form.querySelector('#token').value.trim();
      var result = $('#login-result');
      fetch('/api/tokens/self', { headers: { Authorization: 'Bearer ' + value }, cache: 'no-store' }).then(function (res) {
        return readJson(res).then(function (body) {
          if (!res.ok) {
            result.textContent = 'Not signed in: ' + errorText(res, body);
            return;
          }
          sessionStorage.setItem(TOKEN, value);
          sessionStorage.setItem(WHO, JSON.stringify({ name: String(body.name), role: String(body.role) }));
          form.querySelector('#token').value = '';
          result.textContent = 'Signed in as ' + body.name + ' (' + body.role + ').';
          showSession();
          if ($('[data-gate]')) openGate();
        });
      }, function (err) { result.textContent = 'The API did not answer: ' + err; });
      return;
    }
    if (form.dataset && form.dataset.action && form.dataset.url) {
      event.preventDefault();
      var data = {};
      var input = form.querySelector('input[name]');
      if (input) data[input.name] = input.type === 'number' ? Number(input.value) : input.value;
      act(form.dataset.action, form.dataset.url, data);
    }
  });

  document.addEventListener('click', function (event) {
    var target = event.target.closest ? event.target.closest('button[data-action][data-url], #logout') : null;
    if (!target) return;
    if (target.id === 'logout') {
      forget();
      showSession();
      flash('Signed out.');
      return;
    }
    if (target.dataset.confirm && !window.confirm(target.dataset.confirm)) return;
    act(target.dataset.action, target.dataset.url, undefined);
  });

  function act(action, url, data) {
    var bearer = token();
    if (!bearer) {
      flash('Sign in first: ' + action + ' needs an admin token.', 'error');
      return;
    }
    var init = { method: 'POST', headers: { Authorization: 'Bearer ' + bearer }, cache: 'no-store' };
    if (data !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(data);
    }
    flash(action + '…');
    fetch(url, init).then(function (res) {
      return readJson(res).then(function (body) {
        if (res.ok) flash(action + ': done (' + res.status + ').', 'ok');
        else flash(action + ' refused: ' + errorText(res, body), 'error');
        refreshLive();
      });
    }, function (err) { flash(action + ': the API did not answer: ' + err, 'error'); });
  }

  // The live log.
  function followLog(pre) {
    var base = pre.dataset.log;
    var taskApi = base.replace(/\/log$/, '');
    var state = $('#log-state');
    var stick = true;
    var lines = 0;
    function setState(text) { if (state) state.textContent = text; }
    function atBottom() { return window.innerHeight + window.scrollY >= document.body.scrollHeight - 40; }
    window.addEventListener('scroll', function () { stick = atBottom(); });
    function scroll() { if (stick) window.scrollTo(0, document.body.scrollHeight); }

    function pollTail(running) {
      fetch(base + '?tail=2000', { headers: withToken(), cache: 'no-store' }).then(function (res) {
        if (res.ok) {
          return res.text().then(function (text) {
            pre.textContent = text;
            pre.dataset.lines = String(text.split('\n').length);
            setState(running ? 'running: the last lines, read again every 2 s' : 'the end of the log');
            scroll();
          });
        }
        return readJson(res).then(function (body) { setState('no log here yet: ' + errorText(res, body)); });
      }).catch(function (err) { setState('the log could not be read: ' + err); }).then(function () {
        if (!running) return;
        fetch(taskApi, { headers: withToken(), cache: 'no-store' }).then(readJson).then(function (body) {
          var still = body && body.task && RUNNING.indexOf(body.task.status) >= 0;
          setTimeout(function () { pollTail(Boolean(still)); }, still ? 2000 : 0);
        }, function () { setTimeout(function () { pollTail(true); }, 5000); });
      });
    }

    if (pre.dataset.running !== '1' || typeof EventSource === 'undefined') {
      pollTail(pre.dataset.running === '1');
      return;
    }
    // EventSource sends no header: holding a token (which closed reads need), the page reads the same stream with
    // fetch, the token in the header, and resumes it after the last event's id as EventSource would.
    if (token() && window.ReadableStream && window.TextDecoder) {
      streamWithToken();
      return;
    }
    function streamWithToken() {
      var from = null;
      var ended = false;
      var shown = false;
      function handle(name, data) {
        if (name === 'reset') {
          pre.textContent = '';
          lines = 0;
          setState('following the build live (a new attempt)');
        } else if (name === 'end') {
          ended = true;
          setState('the build ended; the whole log is above');
        } else {
          append({ data: data });
        }
      }
      function block(text) {
        var name = 'message';
        var data = [];
        var id = null;
        text.split(/\r\n|\r|\n/).forEach(function (line) {
          if (line === '' || line.charAt(0) === ':') return;
          var at = line.indexOf(':');
          var field = at < 0 ? line : line.slice(0, at);
          var value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
          if (field === 'event') name = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') id = value;
        });
        if (id !== null && /^\d+$/.test(id)) from = id;
        if (data.length || name !== 'message') handle(name, data.join('\n'));
      }
      function again() {
        if (ended) return;
        setState('reconnecting to the log…');
        setTimeout(connect, 2000);
      }
      function connect() {
        var url = base + '?follow=1' + (from !== null ? '&from=' + from : '');
        fetch(url, { headers: withToken({ Accept: 'text/event-stream' }), cache: 'no-store' }).then(function (res) {
          if (!res.ok || !res.body) {
            // Not served to this token, or no stream here: read the tail while the task runs.
            if (!shown) pre.textContent = '';
            pollTail(true);
            return;
          }
          shown = true;
          setState('following the build live');
          var reader = res.body.getReader();
          var decoder = new TextDecoder();
          var buffer = '';
          function pump() {
            return reader.read().then(function (chunk) {
              if (chunk.done) { again(); return; }
              buffer += decoder.decode(chunk.value, { stream: true });
              var blocks = buffer.split(/\r?\n\r?\n/);
              buffer = blocks.pop();
              blocks.forEach(block);
              return ended ? reader.cancel() : pump();
            });
          }
          return pump();
        }).catch(again);
      }
      connect();
    }
    var opened = false;
    var source = new EventSource(base + '?follow=1');
    function append(event) {
      // One event carries one or more whole lines (joined by newlines), appended as text.
      pre.append(event.data + '\n');
      lines += event.data.split('\n').length;
      pre.dataset.lines = String(lines);
      scroll();
    }
    source.onopen = function () { opened = true; setState('following the build live'); };
    source.onmessage = append;
    source.addEventListener('log', append);
    source.addEventListener('reset', function () {
      // A new attempt (a retry, another builder): its log starts over.
      pre.textContent = '';
      lines = 0;
      setState('following the build live (a new attempt)');
    });
    source.addEventListener('end', function () {
      source.close();
      setState('the build ended; the whole log is above');
    });
    source.onerror = function () {
      // Cut after it was served: the browser reconnects by itself and resumes after the last event (its id).
      if (source.readyState !== EventSource.CLOSED) {
        setState('reconnecting to the log…');
        return;
      }
      // Not served (an API without the stream answers 4xx): read the tail instead, while the task runs.
      if (!opened) pre.textContent = '';
      pollTail(true);
    };
  }

  // Waves: the current ones (not yet published or cancelled), with progress and ETA.
  var ENDED = ['published', 'cancelled'];
  function number(v) { return typeof v === 'number' && isFinite(v) ? v : undefined; }
  function minutes(ms) { return ms < 60000 ? Math.max(1, Math.round(ms / 1000)) + ' s' : Math.round(ms / 60000) + ' min'; }
  function waves(section) {
    var list = section.querySelector('[data-waves-list]');
    var note = section.querySelector('[data-waves-note]');
    fetch(section.dataset.waves, { headers: withToken(), cache: 'no-store' }).then(function (res) {
      return readJson(res).then(function (body) {
        if (!res.ok) {
          note.textContent = 'Waves could not be read: ' + errorText(res, body);
          return true;
        }
        var items = body.items.filter(function (w) {
          return ENDED.indexOf(w.status) < 0;
        });
        list.textContent = '';
        note.textContent = items.length ? '' : 'No wave is running.';
        items.forEach(function (w) {
          var p = w.progress;
          var total = number(p.total) || 0;
          var done = number(p.done) || 0;
          var failed = number(p.failed) || 0;
          var open = number(p.open);
          var row = document.createElement('div');
          row.className = 'wave';
          row.dataset.wave = String(w.id);
          var title = document.createElement('strong');
          title.textContent = String(w.id);
          var bar = document.createElement('progress');
          bar.max = total || 1;
          bar.value = done + failed;
          var text = document.createElement('span');
          var eta = '';
          var estimate = w.estimate || {}; // null until the wave made its first estimate
          if (number(estimate.etaMs) !== undefined) {
            var left = estimate.etaMs - (estimate.at ? Date.now() - Date.parse(estimate.at) : 0);
            eta = left > 0 ? ' · about ' + minutes(left) + ' left' : ' · finishing';
          }
          text.textContent = ' ' + (w.status ? w.status + ': ' : '') + done + ' of ' + total + ' built' + (failed ? ', ' + failed + ' failed' : '') +
            (open !== undefined ? ', ' + open + ' to go' : '') + eta;
          row.append(title, ' ', bar, text);
          list.append(row);
        });
        return true;
      });
    }).catch(function () { note.textContent = 'Waves could not be read.'; }).then(function () {
      setTimeout(function () { waves(section); }, 5000);
    });
  }

  function start() {
    showSession();
    if ($('[data-gate]')) {
      if (token()) openGate();
      return;
    }
    var pre = $('#log[data-log]');
    if (pre) followLog(pre);
    var w = $('[data-waves]');
    if (w) waves(w);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
