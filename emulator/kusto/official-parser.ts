/**
 * Microsoft's own KQL parser (`Kusto.Language`, npm
 * `@kusto/language-service-next`, a devDependency), loaded on first use.
 * The emulator classifies and syntax-checks requests with it, as the
 * service does, and the product's read-only check is tested against it.
 * Never used by product code.
 *
 * The package is a Bridge.NET translation of the C# library that defines
 * globals (`Bridge`, `System`, `Kusto`) when its two scripts are loaded;
 * only the few members used here are typed.
 */
import { createRequire } from 'node:module';

interface NetList<T> {
  Count: number;
  getItem(index: number): T;
}

interface Diagnostic {
  Code: string;
  Message: string;
  Severity: string;
  Start: number;
  Length: number;
}

interface SyntaxElement {
  Kind: number;
  Name?: { SimpleName?: string };
  WalkElements(action: (element: SyntaxElement) => void): void;
}

interface LexicalToken {
  Kind: number;
  Trivia: string;
  Text: string;
}

interface KustoLanguage {
  KustoCode: {
    GetKind(text: string): string;
    Parse(text: string): { Kind: string; Syntax: SyntaxElement; GetSyntaxDiagnostics(): NetList<Diagnostic> };
  };
  Parsing: { TokenParser: { ParseTokens(text: string): LexicalToken[] } };
  Syntax: { SyntaxKind: Record<string, number> };
}

let language: KustoLanguage | undefined;

function load(): KustoLanguage {
  if (language) return language;
  const require = createRequire(import.meta.url);
  require('@kusto/language-service-next/bridge.min.js');
  require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
  language = (globalThis as unknown as { Kusto: { Language: KustoLanguage } }).Kusto.Language;
  return language;
}

/** `KustoCode.GetKind`: "Command" when the first token (after trivia and directive lines) is a dot, else "Query". */
export function officialKind(text: string): 'Command' | 'Query' {
  return load().KustoCode.GetKind(text) === 'Command' ? 'Command' : 'Query';
}

export interface OfficialDiagnostic {
  code: string;
  message: string;
  start: number;
  length: number;
}

/** Syntax errors the official parser finds (no semantic analysis: no schema is involved). */
export function officialSyntaxErrors(text: string): OfficialDiagnostic[] {
  const list = load().KustoCode.Parse(text).GetSyntaxDiagnostics();
  const out: OfficialDiagnostic[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    if (d.Severity === 'Error') out.push({ code: d.Code, message: d.Message, start: d.Start, length: d.Length });
  }
  return out;
}

/** Names of every `set` statement the official parser sees, at any depth. */
export function officialSetOptions(text: string): string[] {
  const kusto = load();
  const setKind = kusto.Syntax.SyntaxKind.SetOptionStatement;
  const names: string[] = [];
  kusto.KustoCode.Parse(text).Syntax.WalkElements((element) => {
    if (element.Kind === setKind) names.push(element.Name?.SimpleName ?? '');
  });
  return names;
}

/**
 * Whether the official lexer sees a statement that starts with a dot
 * anywhere: a dot token right after a `;` (or first in the text).
 */
export function officialDotAfterSemicolon(text: string): boolean {
  const kusto = load();
  const { DotToken, DotDotToken, SemicolonToken } = kusto.Syntax.SyntaxKind as Record<string, number>;
  let previous: number | undefined;
  for (const token of kusto.Parsing.TokenParser.ParseTokens(text)) {
    if ((token.Kind === DotToken || token.Kind === DotDotToken) && (previous === undefined || previous === SemicolonToken)) return true;
    previous = token.Kind;
  }
  return false;
}

/**
 * Loads the parser and runs it once (about 2 s, mostly JIT of the first
 * parse), so that this happens when an emulator is created rather than
 * while a test is timing a request.
 */
export function warmUpOfficialParser(): void {
  officialSyntaxErrors('StormEvents | where State has "x" | summarize n = count() by bin(StartTime, 1d) | top 5 by n');
}
