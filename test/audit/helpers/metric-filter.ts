/**
 * A test-only evaluator for the subset of CloudWatch Logs JSON filter pattern syntax the
 * security alarms use, so the alarm patterns can be run over real CloudTrail records:
 *   { expr }   expr := term (&& term | || term)*   term := ( expr ) | $.sel = "v" | $.sel != "v" | $.sel NOT EXISTS
 * Selectors are `$.a.b[0].c`; string values may use `*` as a wildcard. As in CloudWatch,
 * a comparison on a field the event does not have is false (hence NOT EXISTS).
 */
type Node =
  | { kind: 'and'; left: Node; right: Node }
  | { kind: 'or'; left: Node; right: Node }
  | { kind: 'cmp'; path: (string | number)[]; op: '=' | '!=' | 'notExists'; value?: string };

export function compileFilterPattern(pattern: string): (event: unknown) => boolean {
  const src = pattern.trim();
  if (!src.startsWith('{') || !src.endsWith('}')) throw new Error(`not a JSON filter pattern: ${pattern}`);
  let pos = 1;
  const end = src.length - 1;
  const ws = () => {
    while (pos < end && /\s/.test(src[pos])) pos++;
  };
  const expect = (s: string) => {
    ws();
    if (src.slice(pos, pos + s.length) !== s) throw new Error(`expected "${s}" at ${pos} in ${pattern}`);
    pos += s.length;
  };
  const parseSelector = (): (string | number)[] => {
    expect('$');
    const path: (string | number)[] = [];
    for (;;) {
      if (src[pos] === '.') {
        pos++;
        const m = /^[A-Za-z0-9_@-]+/.exec(src.slice(pos));
        if (!m) throw new Error(`bad selector at ${pos}`);
        path.push(m[0]);
        pos += m[0].length;
      } else if (src[pos] === '[') {
        const m = /^\[(\d+)\]/.exec(src.slice(pos));
        if (!m) throw new Error(`bad index at ${pos}`);
        path.push(Number(m[1]));
        pos += m[0].length;
      } else return path;
    }
  };
  const parseTerm = (): Node => {
    ws();
    if (src[pos] === '(') {
      pos++;
      const inner = parseExpr();
      expect(')');
      return inner;
    }
    const path = parseSelector();
    ws();
    if (src.startsWith('NOT EXISTS', pos)) {
      pos += 'NOT EXISTS'.length;
      return { kind: 'cmp', path, op: 'notExists' };
    }
    const op = src.startsWith('!=', pos) ? '!=' : '=';
    pos += op.length;
    ws();
    if (src[pos] !== '"') throw new Error(`expected a quoted value at ${pos} in ${pattern}`);
    const close = src.indexOf('"', pos + 1);
    const value = src.slice(pos + 1, close);
    pos = close + 1;
    return { kind: 'cmp', path, op, value };
  };
  const parseExpr = (): Node => {
    let left = parseTerm();
    for (;;) {
      ws();
      if (src.startsWith('&&', pos)) {
        pos += 2;
        left = { kind: 'and', left, right: parseTerm() };
      } else if (src.startsWith('||', pos)) {
        pos += 2;
        left = { kind: 'or', left, right: parseTerm() };
      } else return left;
    }
  };
  const tree = parseExpr();
  ws();
  if (pos !== end) throw new Error(`unexpected text at ${pos} in ${pattern}`);

  const lookup = (event: unknown, path: (string | number)[]) =>
    path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), event);
  const matches = (actual: unknown, value: string) => {
    if (actual === undefined || actual === null || typeof actual === 'object') return false;
    const re = new RegExp(
      `^${value
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    return re.test(String(actual));
  };
  const evaluate = (n: Node, event: unknown): boolean => {
    if (n.kind === 'and') return evaluate(n.left, event) && evaluate(n.right, event);
    if (n.kind === 'or') return evaluate(n.left, event) || evaluate(n.right, event);
    const actual = lookup(event, n.path);
    if (n.op === 'notExists') return actual === undefined;
    if (actual === undefined) return false;
    return n.op === '=' ? matches(actual, n.value ?? '') : !matches(actual, n.value ?? '');
  };
  return (event) => evaluate(tree, event);
}
