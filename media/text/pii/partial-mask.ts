/**
 * The `partial` mask style: keeps just enough to recognise the value to its owner (the last
 * four card digits, an e-mail's first letter and domain, a key's public prefix) and hides
 * the rest. Secrets keep only their vendor prefix, never any of the random part.
 */
import type { PiiKind } from './pii-kinds';

function maskAllButLast(value: string, keep: number, hidden: RegExp): string {
  let remaining = (value.match(new RegExp(hidden.source, 'g')) ?? []).length - keep;
  let result = '';
  for (const character of value) {
    if (remaining > 0 && hidden.test(character)) {
      result += '*';
      remaining -= 1;
    } else {
      result += character;
    }
  }
  return result;
}

const SECRET_PREFIX =
  /^(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|APKA|gh[pousr]_|github_pat_|sk-(?:proj-|ant-)?|[rs]k_(?:live|test)_|AIza|xox[abposr]-|eyJ)/;

/** Returns the partial mask of `value`, which was found as `kind`. */
export function partialMask(kind: PiiKind, value: string): string {
  switch (kind) {
    case 'email': {
      const at = value.lastIndexOf('@');
      return `${value.slice(0, 1)}***${value.slice(at)}`;
    }
    case 'phone':
    case 'card':
      return maskAllButLast(value, 4, /\d/);
    case 'iban':
      return value.slice(0, 2) + maskAllButLast(value.slice(2), 4, /[A-Za-z0-9]/);
    case 'kr-rrn':
      // Korean practice: birth date and gender digit shown, the rest hidden (900101-1******).
      return value.slice(0, value.length - 6) + '******';
    case 'ipv4':
      return value.split('.').slice(0, 2).join('.') + '.*.*';
    case 'ipv6':
      return value.split(':').slice(0, 2).join(':') + ':****';
    case 'jwt':
    case 'aws-access-key':
    case 'github-token':
    case 'api-key':
    case 'bearer-token':
    case 'secret':
      return `${SECRET_PREFIX.exec(value)?.[0] ?? ''}********`;
  }
}
