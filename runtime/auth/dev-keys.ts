/** The local signing key of the dev stack: an ES256 key pair kept as JWK files in .data/keys. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface DevKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

export function devKeyFiles(directory: string): DevKeyFiles {
  return {
    privateKeyFile: path.join(directory, 'dev-signing-key.private.jwk.json'),
    publicKeyFile: path.join(directory, 'dev-signing-key.public.jwk.json'),
  };
}

/** Creates the key pair once; later calls return the existing files. The private key is 0600. */
export async function ensureDevKeys(directory: string): Promise<DevKeyFiles> {
  const files = devKeyFiles(directory);
  if (existsSync(files.privateKeyFile) && existsSync(files.publicKeyFile)) return files;
  mkdirSync(directory, { recursive: true });
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256' };
  writeFileSync(files.privateKeyFile, JSON.stringify(privateJwk), { mode: 0o600 });
  writeFileSync(files.publicKeyFile, JSON.stringify(publicJwk));
  return files;
}

export function readJwk(file: string): JWK {
  return JSON.parse(readFileSync(file, 'utf8')) as JWK;
}
