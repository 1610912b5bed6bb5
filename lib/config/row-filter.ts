/**
 * Row filters: the small expression language a project's approval may use to limit the
 * rows it sees, e.g. `admission_method IN ('21','22') AND age_band <> '90+'`.
 *
 * It is deliberately a subset that means the same thing in Lake Formation's data cells
 * filters (PartiQL) and in DuckDB (the local runtime): comparisons, IN, LIKE, BETWEEN,
 * IS [NOT] NULL, AND / OR / NOT and parentheses over column names and literals. Parsing
 * it ourselves lets `sde validate` refuse a filter that does not parse or that names an
 * unknown column, and renders one canonical text that both engines receive.
 */

export type RowFilterExpr =
  | { kind: 'and' | 'or'; left: RowFilterExpr; right: RowFilterExpr }
  | { kind: 'not'; operand: RowFilterExpr }
  | { kind: 'compare'; op: '=' | '<>' | '<' | '<=' | '>' | '>='; column: string; value: Literal }
  | { kind: 'in'; column: string; values: Literal[]; negated: boolean }
  | { kind: 'like'; column: string; pattern: string; negated: boolean }
  | { kind: 'between'; column: string; low: Literal; high: Literal; negated: boolean }
  | { kind: 'null'; column: string; negated: boolean };

export type Literal = { type: 'string'; value: string } | { type: 'number'; value: string } | { type: 'boolean'; value: boolean };

type Token =
  | { t: 'ident'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'punct'; v: '(' | ')' | ','; at: number }
  | { t: 'end'; at: number };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'BETWEEN', 'IS', 'NULL', 'TRUE', 'FALSE']);

export class RowFilterSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} (at character ${position + 1})`);
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new RowFilterSyntaxError('unterminated string literal', i);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j++];
      }
      tokens.push({ t: 'string', v: value, at: i });
      i = j + 1;
    } else if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i))!;
      tokens.push({ t: 'number', v: m[0], at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ t: 'ident', v: m[0], at: i });
      i += m[0].length;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ t: 'punct', v: ch, at: i });
      i++;
    } else {
      const m = /^(<>|!=|<=|>=|=|<|>)/.exec(text.slice(i));
      if (!m) throw new RowFilterSyntaxError(`unexpected character "${ch}"`, i);
      tokens.push({ t: 'op', v: m[0] === '!=' ? '<>' : m[0], at: i });
      i += m[0].length;
    }
  }
  tokens.push({ t: 'end', at: text.length });
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }
  private next(): Token {
    return this.tokens[this.pos++];
  }
  private isKeyword(word: string): boolean {
    const tok = this.peek();
    return tok.t === 'ident' && tok.v.toUpperCase() === word;
  }
  private expectKeyword(word: string): void {
    if (!this.isKeyword(word)) throw new RowFilterSyntaxError(`expected ${word}`, this.peek().at);
    this.pos++;
  }
  private expectPunct(p: '(' | ')' | ','): void {
    const tok = this.next();
    if (tok.t !== 'punct' || tok.v !== p) throw new RowFilterSyntaxError(`expected "${p}"`, tok.at);
  }

  parse(): RowFilterExpr {
    const expr = this.or();
    const tok = this.peek();
    if (tok.t !== 'end') throw new RowFilterSyntaxError('unexpected text after the end of the expression', tok.at);
    return expr;
  }

  private or(): RowFilterExpr {
    let left = this.and();
    while (this.isKeyword('OR')) {
      this.pos++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): RowFilterExpr {
    let left = this.not();
    while (this.isKeyword('AND')) {
      this.pos++;
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): RowFilterExpr {
    if (this.isKeyword('NOT')) {
      this.pos++;
      return { kind: 'not', operand: this.not() };
    }
    return this.primary();
  }

  private primary(): RowFilterExpr {
    const tok = this.peek();
    if (tok.t === 'punct' && tok.v === '(') {
      this.pos++;
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    if (tok.t !== 'ident' || KEYWORDS.has(tok.v.toUpperCase())) {
      throw new RowFilterSyntaxError('expected a column name', tok.at);
    }
    this.pos++;
    const column = tok.v;
    const op = this.peek();
    if (op.t === 'op') {
      this.pos++;
      return { kind: 'compare', op: op.v as '=', column, value: this.literal() };
    }
    if (this.isKeyword('IS')) {
      this.pos++;
      const negated = this.isKeyword('NOT');
      if (negated) this.pos++;
      this.expectKeyword('NULL');
      return { kind: 'null', column, negated };
    }
    const negated = this.isKeyword('NOT');
    if (negated) this.pos++;
    if (this.isKeyword('IN')) {
      this.pos++;
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.peek().t === 'punct' && (this.peek() as { v: string }).v === ',') {
        this.pos++;
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { kind: 'in', column, values, negated };
    }
    if (this.isKeyword('LIKE')) {
      this.pos++;
      const pattern = this.next();
      if (pattern.t !== 'string') throw new RowFilterSyntaxError('LIKE needs a quoted pattern', pattern.at);
      return { kind: 'like', column, pattern: pattern.v, negated };
    }
    if (this.isKeyword('BETWEEN')) {
      this.pos++;
      const low = this.literal();
      this.expectKeyword('AND');
      return { kind: 'between', column, low, high: this.literal(), negated };
    }
    throw new RowFilterSyntaxError('expected a comparison (=, <>, <, <=, >, >=), IN, LIKE, BETWEEN or IS NULL', this.peek().at);
  }

  private literal(): Literal {
    const tok = this.next();
    if (tok.t === 'string') return { type: 'string', value: tok.v };
    if (tok.t === 'number') return { type: 'number', value: tok.v };
    if (tok.t === 'ident' && (tok.v.toUpperCase() === 'TRUE' || tok.v.toUpperCase() === 'FALSE')) {
      return { type: 'boolean', value: tok.v.toUpperCase() === 'TRUE' };
    }
    throw new RowFilterSyntaxError('expected a value: a quoted string, a number, TRUE or FALSE', tok.at);
  }
}

/** Parses a row filter; throws RowFilterSyntaxError saying where it went wrong. */
export function parseRowFilter(text: string): RowFilterExpr {
  return new Parser(tokenize(text)).parse();
}

/** The column names a filter reads. */
export function rowFilterColumns(expr: RowFilterExpr): string[] {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return [...new Set([...rowFilterColumns(expr.left), ...rowFilterColumns(expr.right)])];
    case 'not':
      return rowFilterColumns(expr.operand);
    default:
      return [expr.column];
  }
}

function literalSql(l: Literal): string {
  if (l.type === 'string') return `'${l.value.replace(/'/g, "''")}'`;
  if (l.type === 'boolean') return l.value ? 'TRUE' : 'FALSE';
  return l.value;
}

/** One canonical rendering, fully parenthesised, that Lake Formation and DuckDB both read the same way. */
export function rowFilterSql(expr: RowFilterExpr): string {
  const not = (negated: boolean) => (negated ? 'NOT ' : '');
  switch (expr.kind) {
    case 'and':
    case 'or':
      return `(${rowFilterSql(expr.left)} ${expr.kind.toUpperCase()} ${rowFilterSql(expr.right)})`;
    case 'not':
      return `(NOT ${rowFilterSql(expr.operand)})`;
    case 'compare':
      return `${expr.column} ${expr.op} ${literalSql(expr.value)}`;
    case 'in':
      return `${expr.column} ${not(expr.negated)}IN (${expr.values.map(literalSql).join(', ')})`;
    case 'like':
      return `${expr.column} ${not(expr.negated)}LIKE ${literalSql({ type: 'string', value: expr.pattern })}`;
    case 'between':
      return `${expr.column} ${not(expr.negated)}BETWEEN ${literalSql(expr.low)} AND ${literalSql(expr.high)}`;
    case 'null':
      return `${expr.column} IS ${not(expr.negated)}NULL`;
  }
}
