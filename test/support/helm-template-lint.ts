/**
 * A checker for Helm's Go templates that needs no Go and no helm binary. It lexes actions the way Go's text/template
 * lexer does (trim markers, comments, quoted, raw and character strings, newlines inside actions) and then checks
 * what Go's parser would reject:
 * - unterminated actions, strings and comments, and characters that cannot start a token;
 * - unbalanced parentheses, and empty pipelines after if/range/with;
 * - if/range/with/define/block without their `end`, a stray `end` or `else`, `define` inside a block, `break` and
 *   `continue` outside range;
 * - variables used before they are declared in scope (`undefined variable "$x"`), and `=` to an undeclared one;
 * - functions that are not Go builtins, Sprig or Helm functions (`function "toYml" not defined`);
 * - `include`/`template` of a name no file defines.
 * npm offers no Go-template parser that knows Helm's functions (the wasm build of text/template rejects every
 * Sprig name), hence this one; `helm lint` and `helm template` run on top of it when helm is installed.
 */

export interface Token {
  kind: 'string' | 'number' | 'ident' | 'field' | 'variable' | 'punct';
  text: string;
}

export interface Action {
  file: string;
  line: number;
  /** The text between the delimiters, trim markers removed. */
  text: string;
  comment: boolean;
  tokens: Token[];
}

export interface TemplateProblem {
  file: string;
  line: number;
  message: string;
}

const KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'block',
  'template',
  'break',
  'continue',
]);
const CONSTANTS = new Set(['true', 'false', 'nil']);

/** Go's builtins, Sprig v3 and Helm's own functions. */
export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set(
  `and or not len index slice print printf println html js urlquery call eq ne lt le gt ge
  include tpl required toYaml toYamlPretty mustToYaml fromYaml fromYamlArray mustFromYaml toToml fromToml toJson
  fromJson fromJsonArray mustToJson mustFromJson toPrettyJson mustToPrettyJson toRawJson mustToRawJson lookup
  hello ago date dateInZone date_in_zone dateModify date_modify mustDateModify must_date_modify duration
  durationRound htmlDate htmlDateInZone mustToDate now toDate unixEpoch
  abbrev abbrevboth trunc trim upper lower title untitle substr repeat trimall trimAll trimSuffix trimPrefix nospace
  initials randAlphaNum randAlpha randAscii randNumeric swapcase shuffle snakecase camelcase kebabcase wrap wrapWith
  contains hasPrefix hasSuffix quote squote cat indent nindent replace plural sha1sum sha256sum sha512sum adler32sum
  toString atoi int int64 float64 seq toDecimal split splitList splitn toStrings until untilStep
  add1 add sub div mod mul randInt add1f addf subf divf mulf biggest max min maxf minf ceil floor round
  join sortAlpha default empty coalesce all any compact mustCompact ternary deepCopy mustDeepCopy
  typeOf typeIs typeIsLike kindOf kindIs deepEqual base dir clean ext isAbs osBase osClean osDir osExt osIsAbs
  b64enc b64dec b32enc b32dec tuple list dict get set unset hasKey pluck keys pick omit merge mergeOverwrite
  mustMerge mustMergeOverwrite values append push mustAppend mustPush prepend mustPrepend first mustFirst rest
  mustRest last mustLast initial mustInitial reverse mustReverse uniq mustUniq without mustWithout has mustHas
  mustSlice concat dig chunk mustChunk bcrypt htpasswd genPrivateKey derivePassword buildCustomCert genCA
  genCAWithKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert genSignedCertWithKey encryptAES decryptAES
  randBytes uuidv4 semver semverCompare fail regexMatch mustRegexMatch regexFindAll mustRegexFindAll regexFind
  mustRegexFind regexReplaceAll mustRegexReplaceAll regexReplaceAllLiteral mustRegexReplaceAllLiteral regexSplit
  mustRegexSplit regexQuoteMeta urlParse urlJoin getHostByName`.split(/\s+/),
);

class LexError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

function lineAt(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** Splits one action's text into tokens, or throws naming the first character no token starts with. */
export function tokenize(text: string, line = 1): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const ident = /[A-Za-z_][A-Za-z0-9_]*/y;
  const fieldChain = /(?:\.[A-Za-z_][A-Za-z0-9_]*)+/y;
  const number = /[+-]?(?:0[xXbBoO])?[0-9][0-9a-fA-F_.]*(?:[eEpP][+-]?[0-9]+)?i?/y;
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = i;
    const found = pattern.exec(text);
    return found ? found[0] : undefined;
  };
  while (i < text.length) {
    const char = text[i];
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (char === '"' || char === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== char) {
        if (text[j] === '\\') j++;
        else if (text[j] === '\n') throw new LexError(line, 'unterminated quoted string');
        j++;
      }
      if (j >= text.length) throw new LexError(line, 'unterminated quoted string');
      tokens.push({ kind: 'string', text: text.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (char === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw new LexError(line, 'unterminated raw quoted string');
      tokens.push({ kind: 'string', text: text.slice(i, end + 1) });
      i = end + 1;
      continue;
    }
    if (text.startsWith(':=', i)) {
      tokens.push({ kind: 'punct', text: ':=' });
      i += 2;
      continue;
    }
    if ('|()=,'.includes(char)) {
      tokens.push({ kind: 'punct', text: char });
      i++;
      continue;
    }
    if (char === '$') {
      i++;
      const name = match(/[A-Za-z0-9_]*/y) ?? '';
      i += name.length;
      const chain = match(fieldChain) ?? '';
      i += chain.length;
      tokens.push({ kind: 'variable', text: `$${name}${chain}` });
      continue;
    }
    if (char === '.') {
      const chain = match(fieldChain);
      if (chain) {
        tokens.push({ kind: 'field', text: chain });
        i += chain.length;
      } else {
        tokens.push({ kind: 'field', text: '.' });
        i++;
      }
      continue;
    }
    const numeric = /[0-9+-]/.test(char) ? match(number) : undefined;
    if (numeric) {
      tokens.push({ kind: 'number', text: numeric });
      i += numeric.length;
      continue;
    }
    const word = match(ident);
    if (word) {
      tokens.push({ kind: 'ident', text: word });
      i += word.length;
      continue;
    }
    throw new LexError(line, `unrecognized character in action: ${JSON.stringify(char)}`);
  }
  return tokens;
}

/** The actions of one template file, in order; throws a LexError for an unterminated action or comment. */
export function lexActions(file: string, source: string): Action[] {
  const actions: Action[] = [];
  let index = 0;
  for (;;) {
    const start = source.indexOf('{{', index);
    if (start < 0) break;
    const line = lineAt(source, start);
    let i = start + 2;
    // A left trim marker is "-" and one space; a comment must follow the delimiter (or the marker) directly.
    if (/^-[ \t\r\n]/.test(source.slice(i, i + 2))) i += 2;
    if (source.startsWith('/*', i)) {
      const close = source.indexOf('*/', i + 2);
      if (close < 0) throw new LexError(line, 'unclosed comment');
      const after = source.slice(close + 2);
      const end = /^(?:[ \t\r\n]-)?}}/.exec(after);
      if (!end) throw new LexError(line, 'comment ends before closing delimiter');
      actions.push({ file, line, text: source.slice(i + 2, close), comment: true, tokens: [] });
      index = close + 2 + end[0].length;
      continue;
    }
    // Scan to the closing delimiter, skipping over strings that may contain "}}".
    let j = i;
    let closed = -1;
    while (j < source.length) {
      const char = source[j];
      if (char === '"' || char === "'") {
        j++;
        while (j < source.length && source[j] !== char) {
          if (source[j] === '\\') j++;
          else if (source[j] === '\n') throw new LexError(lineAt(source, j), 'unterminated quoted string');
          j++;
        }
        if (j >= source.length) throw new LexError(line, 'unterminated quoted string');
        j++;
        continue;
      }
      if (char === '`') {
        const end = source.indexOf('`', j + 1);
        if (end < 0) throw new LexError(lineAt(source, j), 'unterminated raw quoted string');
        j = end + 1;
        continue;
      }
      if (source.startsWith('}}', j)) {
        closed = j;
        break;
      }
      j++;
    }
    if (closed < 0) throw new LexError(line, 'unclosed action');
    let text = source.slice(i, closed);
    if (/[ \t\r\n]-$/.test(text)) text = text.slice(0, -2);
    actions.push({ file, line, text: text.trim(), comment: false, tokens: tokenize(text, line) });
    index = closed + 2;
  }
  return actions;
}

/** Names given to `define` (and `block`) in these files. */
export function definedTemplates(files: ReadonlyMap<string, string>): Set<string> {
  const names = new Set<string>();
  for (const [file, source] of files) {
    for (const action of safeLex(file, source).actions) {
      const first = action.tokens.at(0);
      const second = action.tokens.at(1);
      if (
        first?.kind === 'ident' &&
        (first.text === 'define' || first.text === 'block') &&
        second?.kind === 'string'
      ) {
        names.add(unquote(second.text));
      }
    }
  }
  return names;
}

function safeLex(file: string, source: string): { actions: Action[]; problem?: TemplateProblem } {
  try {
    return { actions: lexActions(file, source) };
  } catch (error) {
    if (error instanceof LexError)
      return { actions: [], problem: { file, line: error.line, message: error.message } };
    throw error;
  }
}

export function unquote(text: string): string {
  if (text.startsWith('`')) return text.slice(1, -1);
  return JSON.parse(text.startsWith("'") ? `"${text.slice(1, -1)}"` : text) as string;
}

interface Block {
  keyword: string;
  line: number;
  variables: Set<string>;
}

/** Every problem Go's parser (with Helm's function map) would report for these template files. */
export function checkTemplates(files: ReadonlyMap<string, string>): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const defined = definedTemplates(files);
  for (const [file, source] of files) {
    const { actions, problem } = safeLex(file, source);
    if (problem) {
      problems.push(problem);
      continue;
    }
    problems.push(...checkActions(file, actions, defined));
  }
  return problems;
}

function checkActions(file: string, actions: Action[], defined: Set<string>): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const top: Block = { keyword: 'file', line: 0, variables: new Set(['$']) };
  const stack: Block[] = [top];
  const report = (line: number, message: string) => problems.push({ file, line, message });
  // Inside a define, only its own variables and `$` exist.
  const visible = (name: string) => {
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i].variables.has(name)) return true;
      if (stack[i].keyword === 'define' || stack[i].keyword === 'block') return name === '$';
    }
    return false;
  };

  for (const action of actions) {
    if (action.comment) continue;
    const { tokens, line } = action;
    if (tokens.length === 0) {
      report(line, 'missing value for command');
      continue;
    }
    const first = tokens[0];
    let rest = tokens;
    let opens: Block | undefined;

    if (first.kind === 'ident' && KEYWORDS.has(first.text)) {
      rest = tokens.slice(1);
      switch (first.text) {
        case 'end':
          if (rest.length > 0) report(line, 'unexpected tokens after end');
          if (stack.length === 1) report(line, 'unexpected {{end}}');
          else stack.pop();
          continue;
        case 'else': {
          const current = stack[stack.length - 1];
          if (!['if', 'range', 'with'].includes(current.keyword)) {
            report(line, 'unexpected {{else}}');
            continue;
          }
          if (rest.length === 0) continue;
          if (rest[0].kind === 'ident' && (rest[0].text === 'if' || rest[0].text === 'with')) {
            rest = rest.slice(1);
            if (rest.length === 0) report(line, `missing value for else ${tokens[1].text}`);
            break;
          }
          report(line, 'unexpected tokens after else');
          continue;
        }
        case 'break':
        case 'continue':
          if (!stack.some((block) => block.keyword === 'range'))
            report(line, `{{${first.text}}} outside {{range}}`);
          continue;
        case 'define':
        case 'block':
        case 'template': {
          if (rest[0]?.kind !== 'string') {
            report(line, `${first.text} needs a quoted template name`);
            continue;
          }
          const name = unquote(rest[0].text);
          if (first.text === 'template' && !defined.has(name))
            report(line, `template "${name}" is not defined`);
          if (first.text === 'define' && stack.length > 1) report(line, 'define inside a block');
          rest = rest.slice(1);
          if (first.text === 'define') {
            if (rest.length > 0) report(line, 'unexpected tokens after define name');
            stack.push({ keyword: 'define', line, variables: new Set(['$']) });
            continue;
          }
          if (first.text === 'block') opens = { keyword: 'block', line, variables: new Set(['$']) };
          break;
        }
        default:
          // if, range, with: a pipeline follows and opens a block.
          if (rest.length === 0) report(line, `missing value for ${first.text}`);
          opens = { keyword: first.text, line, variables: new Set() };
      }
    }

    // Declarations: `$x :=`, `$k, $v :=` (range) at the start of the pipeline; assignments `$x =`.
    let pipeline = rest;
    const declaration = /^\$[A-Za-z0-9_]*$/;
    if (pipeline[0]?.kind === 'variable' && declaration.test(pipeline[0].text)) {
      const names = [pipeline[0].text];
      let k = 1;
      if (pipeline[1]?.text === ',' && pipeline[2]?.kind === 'variable') {
        names.push(pipeline[2].text);
        k = 3;
      }
      const operator = pipeline[k]?.text;
      if (operator === ':=') {
        const scope = opens ?? stack[stack.length - 1];
        for (const name of names) scope.variables.add(name);
        pipeline = pipeline.slice(k + 1);
      } else if (operator === '=') {
        for (const name of names) if (!visible(name)) report(line, `undefined variable "${name}"`);
        pipeline = pipeline.slice(k + 1);
      }
    }

    let depth = 0;
    pipeline.forEach((token, index) => {
      if (token.text === '(') depth++;
      if (token.text === ')') {
        depth--;
        if (depth < 0) report(line, 'unexpected right paren');
      }
      if (token.kind === 'variable') {
        const name = /^\$[A-Za-z0-9_]*/.exec(token.text)?.[0] ?? '$';
        if (!visible(name) && !(opens?.variables.has(name) ?? false)) {
          report(line, `undefined variable "${name}"`);
        }
      }
      if (token.kind === 'ident') {
        if (KEYWORDS.has(token.text)) report(line, `unexpected keyword "${token.text}" in pipeline`);
        else if (!CONSTANTS.has(token.text) && !KNOWN_FUNCTIONS.has(token.text)) {
          report(line, `function "${token.text}" not defined`);
        }
        if (token.text === 'include') {
          const name = pipeline.at(index + 1);
          if (name?.kind !== 'string') report(line, 'include needs a quoted template name');
          else if (!defined.has(unquote(name.text)))
            report(line, `template "${unquote(name.text)}" is not defined`);
        }
      }
      if (token.text === '|' && (index === 0 || index === pipeline.length - 1)) {
        report(line, 'missing command around |');
      }
    });
    if (depth > 0) report(line, 'unclosed left paren');
    if (pipeline.length === 0 && opens && opens.keyword !== 'block')
      report(line, `missing value for ${opens.keyword}`);
    if (opens) stack.push(opens);
  }
  for (const block of stack.slice(1))
    report(block.line, `unexpected EOF: {{${block.keyword}}} has no {{end}}`);
  return problems;
}
