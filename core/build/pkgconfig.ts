/**
 * The module names a pkg-config file requires (`Requires:` and `Requires.private:`), which boulder turns into
 * `pkgconfig(name)` dependencies of the package holding the .pc file. boulder asks the pkg-config binary; this
 * reads the file itself, so the analysis needs no build root and no other .pc files present.
 */
export function pkgconfigRequires(text: string): string[] {
  const variables = new Map<string, string>();
  const expand = (value: string): string => value.replace(/\$\{([^}]+)\}/g, (_, name: string) => variables.get(name) ?? '');
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const variable = /^([A-Za-z0-9_.]+)\s*=\s*(.*)$/.exec(line);
    if (variable) {
      variables.set(variable[1], expand(variable[2]));
      continue;
    }
    const field = /^(Requires(?:\.private)?)\s*:\s*(.*)$/.exec(line);
    if (!field) continue;
    // `a >= 1.0, b c < 2`: names, each optionally followed by an operator and a version.
    const tokens = expand(field[2]).split(/[\s,]+/).filter(Boolean);
    for (let i = 0; i < tokens.length; i++) {
      if (/^(?:[<>!]?=|[<>])$/.test(tokens[i])) {
        i++; // skip the version after the operator
        continue;
      }
      if (!out.includes(tokens[i])) out.push(tokens[i]);
    }
  }
  return out;
}
