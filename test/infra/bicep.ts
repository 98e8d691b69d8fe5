/**
 * Just enough Bicep reading for the infra tests (the Bicep compiler cannot be installed here):
 * files as text without comments, `param` declarations, object-literal `var`s, `output`s.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const INFRA = join(REPO, 'infra');

export interface BicepFile {
  readonly path: string;
  /** The text with `//` and block comments blanked out (strings left intact). */
  readonly code: string;
}

export function readBicepFiles(dir: string = INFRA): BicepFile[] {
  const files: BicepFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.bicep')) continue;
    const full = join(entry.parentPath, entry.name);
    files.push({ path: relative(REPO, full), code: stripComments(readFileSync(full, 'utf8')) });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** The file at `infra/<name>` among `files`; throws when it is missing. */
export function infraFile(files: readonly BicepFile[], name: string): BicepFile {
  const found = files.find((f) => f.path === join('infra', name));
  if (!found) throw new Error(`infra/${name} is missing`);
  return found;
}

/** Blanks comments but keeps string literals (Bicep strings are single-quoted, `\'` escapes). */
export function stripComments(text: string): string {
  return text.replace(/'(?:\\.|[^'\\])*'|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m) => (m.startsWith("'") ? m : ''));
}

export interface BicepParam {
  readonly name: string;
  readonly type: string;
  /** The default as written (`'full'`, `2048`), or undefined. */
  readonly defaultValue?: string;
  readonly secure: boolean;
}

export function params(file: BicepFile): BicepParam[] {
  const out: BicepParam[] = [];
  const re = /((?:@[^\n]*\n\s*)*)param\s+(\w+)\s+([\w[\]]+)(?:\s*=\s*([^\n]+))?/g;
  for (const m of file.code.matchAll(re)) {
    const [, decorators = '', name = '', type = '', value] = m;
    out.push({ name, type, defaultValue: value?.trim(), secure: /@secure\(\)/.test(decorators) });
  }
  return out;
}

/** The body of an object literal that starts at `open` (the index of its `{`), braces balanced. */
function objectBody(code: string, open: number): string {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}' && --depth === 0) return code.slice(open + 1, i);
  }
  throw new Error(`unbalanced braces from offset ${open}`);
}

/** Top-level `key: value` pairs of an object literal body (nested objects kept as text). */
export function objectEntries(body: string): Map<string, string> {
  const entries = new Map<string, string>();
  let depth = 0;
  for (const line of body.split('\n')) {
    if (depth === 0) {
      const m = /^\s*'?([\w.-]+)'?\s*:\s*(.*)$/.exec(line);
      if (m?.[1]) entries.set(m[1], (m[2] ?? '').trim());
    }
    for (const ch of line) {
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') depth--;
    }
  }
  return entries;
}

/** `var <name> = { … }` object literals whose name ends in AppSettings: the Function App's settings. */
export function appSettingVars(file: BicepFile): Map<string, Map<string, string>> {
  const vars = new Map<string, Map<string, string>>();
  for (const m of file.code.matchAll(/\bvar\s+(\w*AppSettings)\s*=\s*\{/gi)) {
    vars.set(m[1] ?? '', objectEntries(objectBody(file.code, (m.index ?? 0) + m[0].length - 1)));
  }
  return vars;
}

export interface BicepOutput {
  readonly name: string;
  readonly expression: string;
  readonly decorators: string;
}

export function outputs(file: BicepFile): BicepOutput[] {
  return [...file.code.matchAll(/((?:@[^\n]*\n\s*)*)output\s+(\w+)\s+\w+\s*=\s*([^\n]+)/g)].map((m) => ({
    decorators: m[1] ?? '',
    name: m[2] ?? '',
    expression: (m[3] ?? '').trim(),
  }));
}

export interface BicepDeclaration {
  /** `resource` or `module`. */
  readonly kind: string;
  /** The resource type with its API version, or the module's path. */
  readonly type: string;
  /** The `if (…)` condition as written, or undefined. */
  readonly condition?: string;
  /** The object literal's body. */
  readonly body: string;
}

/** The `resource <name> '…' = [if (…)] { … }` or `module <name> '…' = { … }` declaration named `name`. */
export function declaration(file: BicepFile, name: string): BicepDeclaration | undefined {
  const m = new RegExp(
    `\\b(resource|module)\\s+${name}\\s+'([^']+)'(?:\\s+existing)?\\s*=\\s*(?:if\\s*\\((.*)\\)\\s*)?\\{`,
  ).exec(file.code);
  if (!m) return undefined;
  return {
    kind: m[1] ?? '',
    type: m[2] ?? '',
    condition: m[3]?.trim(),
    body: objectBody(file.code, (m.index ?? 0) + m[0].length - 1),
  };
}

/** Every resource or module declaration of a file, by symbolic name. */
export function declarations(file: BicepFile): Map<string, BicepDeclaration> {
  const found = new Map<string, BicepDeclaration>();
  for (const m of file.code.matchAll(/\b(?:resource|module)\s+(\w+)\s+'/g)) {
    const name = m[1] ?? '';
    const d = declaration(file, name);
    if (d) found.set(name, d);
  }
  return found;
}
