import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import type { OcrResult } from '@argus/contracts';
import { findContactInfo } from '@argus/inference';

export type PiiKind = 'email' | 'phone' | 'iban';

export interface PiiFinding {
  kind: PiiKind;
  /** Index of the line in `lines`. */
  line: number;
  /** The text as written; left out when the answer is redacted, so the finding does not leak what it hid. */
  quote?: string;
}

/** IBAN candidates: country code, check digits, then 11–30 letters and digits, in groups of four or not. */
const IBAN_CANDIDATE = /\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}\b/g;
const REDACTED = '[redacted]';

function ibansIn(text: string): string[] {
  return [...text.matchAll(IBAN_CANDIDATE)]
    .map((match) => match[0])
    .filter((candidate) => isValidIBAN(electronicFormatIBAN(candidate) ?? ''));
}

/** E-mail addresses, phone numbers and IBANs (checksum-validated) in OCR lines. */
export function findPii(lines: Array<{ text: string }>): Array<Required<PiiFinding>> {
  const findings: Array<Required<PiiFinding>> = [];
  lines.forEach((line, index) => {
    for (const hit of findContactInfo([{ text: line.text }])) {
      if (hit.kind !== 'url') findings.push({ kind: hit.kind, line: index, quote: hit.quote });
    }
    for (const iban of ibansIn(line.text)) findings.push({ kind: 'iban', line: index, quote: iban });
  });
  return findings;
}

/**
 * `flag` adds the findings; `redact` also replaces each one with [redacted] in the text, the lines and the words,
 * and leaves the quotes out of the findings.
 */
export function applyPiiMode(
  result: OcrResult,
  mode: 'off' | 'flag' | 'redact',
): OcrResult & { pii?: PiiFinding[] } {
  if (mode === 'off') return result;
  const findings = findPii(result.lines);
  if (mode === 'flag') return { ...result, pii: findings };
  const lines = result.lines.map((line, index) => {
    const quotes = findings.filter((finding) => finding.line === index).map((finding) => finding.quote);
    if (quotes.length === 0) return line;
    const text = quotes.reduce((current, quote) => current.split(quote).join(REDACTED), line.text);
    const words = line.words?.map((word) =>
      quotes.some((quote) => quote.includes(word.text) && /\d|@/.test(word.text))
        ? { ...word, text: REDACTED }
        : word,
    );
    return { ...line, text, ...(words ? { words } : {}) };
  });
  return {
    ...result,
    text: lines.map((line) => line.text).join('\n'),
    lines,
    pii: findings.map(({ kind, line }) => ({ kind, line })),
  };
}
