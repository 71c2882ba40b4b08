/**
 * `fetchRemoteMedia` against real local HTTP servers. Two servers stand in for the world:
 * "public" on 127.0.0.2 and "internal" on 127.0.0.1. The SSRF tests use the default
 * policy plus one test-only exception (127.0.0.2 counts as public) and assert the
 * internal server never sees a request; the streaming tests use the permissive
 * test-only policy.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  allowAnyAddressForTests,
  fetchRemoteMedia,
  isPublicAddress,
  type AddressPolicy,
  type FetchRemoteMediaOptions,
  type HostResolver,
} from '../../media/fetch';
import { MediaInputError } from '../../media/media-input-error';

const PUBLIC_HOST = '127.0.0.2';
const INTERNAL_HOST = '127.0.0.1';
/** The default policy, except that the stand-in "public" server counts as public. */
const defaultPolicyWithTestPublicHost: AddressPolicy = (address) =>
  address === PUBLIC_HOST || isPublicAddress(address);

interface Server {
  base: string;
  port: number;
  requests: string[];
  close: () => Promise<void>;
}

async function listen(host: string, handler: http.RequestListener): Promise<Server> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://${host}:${port}`,
    port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A raw TCP server that answers every connection with `reply` (to send lying headers). */
async function listenRaw(reply: Buffer): Promise<Server> {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end(reply));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, INTERNAL_HOST, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://${INTERNAL_HOST}:${port}`,
    port,
    requests: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const PNG_BYTES = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

let internal: Server;
let publicServer: Server;

beforeAll(async () => {
  internal = await listen(INTERNAL_HOST, (request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const redirectMatch = /^\/redirect\/(\d+)$/.exec(url.pathname);
    if (redirectMatch) {
      const left = Number(redirectMatch[1]);
      response.writeHead(302, { location: left > 0 ? `/redirect/${left - 1}` : '/image.png' });
      response.end();
      return;
    }
    switch (url.pathname) {
      case '/image.png':
        response.writeHead(200, { 'content-type': 'image/png; charset=binary' });
        response.end(PNG_BYTES);
        return;
      case '/chunked': {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(1024, 7);
        for (let index = 0; index < 64; index += 1) response.write(chunk);
        response.end();
        return;
      }
      case '/declared-large':
        response.writeHead(200, { 'content-length': '1000000', 'content-type': 'image/png' });
        response.write(Buffer.alloc(16));
        return; // never finishes: the fetcher must not wait for it
      case '/slow':
        response.writeHead(200, { 'content-type': 'image/png' });
        response.write(Buffer.alloc(16));
        return; // trickles nothing more
      case '/no-location':
        response.writeHead(302);
        response.end();
        return;
      case '/missing':
        response.writeHead(404);
        response.end();
        return;
      case '/unavailable':
        response.writeHead(503);
        response.end();
        return;
      default:
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('internal secret');
    }
  });
  publicServer = await listen(PUBLIC_HOST, (request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname === '/to-loopback') {
      response.writeHead(302, { location: `http://127.0.0.1:${internal.port}/secret` });
    } else if (url.pathname === '/to-localhost') {
      response.writeHead(301, { location: `http://localhost:${internal.port}/secret` });
    } else if (url.pathname === '/to-decimal') {
      response.writeHead(307, { location: `http://2130706433:${internal.port}/secret` });
    } else if (url.pathname === '/to-same-name') {
      response.writeHead(302, { location: `http://rebind.invalid:${internal.port}/secret` });
    } else if (url.pathname === '/to-metadata') {
      response.writeHead(308, { location: 'http://169.254.169.254/latest/meta-data/' });
    } else {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(PNG_BYTES);
      return;
    }
    response.end();
  });
});

afterAll(async () => {
  await Promise.all([internal.close(), publicServer.close()]);
});

beforeEach(() => {
  internal.requests.length = 0;
  publicServer.requests.length = 0;
});

const limits: Pick<FetchRemoteMediaOptions, 'maxBytes' | 'timeoutMs'> = {
  maxBytes: 8 * 1024,
  timeoutMs: 5_000,
};

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return error instanceof MediaInputError ? error.code : `plain: ${String(error)}`;
  }
  return 'resolved';
}

describe('default policy refuses internal targets', () => {
  test.each([
    ['loopback literal', () => `http://127.0.0.1:${internal.port}/secret`],
    ['localhost (real DNS)', () => `http://localhost:${internal.port}/secret`],
    ['decimal IPv4', () => `http://2130706433:${internal.port}/secret`],
    ['hex/short IPv4', () => `http://0x7f.1:${internal.port}/secret`],
    ['userinfo trick', () => `http://public.example@127.0.0.1:${internal.port}/secret`],
    ['IPv4-mapped IPv6', () => `http://[::ffff:127.0.0.1]:${internal.port}/secret`],
    ['IPv6 loopback', () => `http://[::1]:${internal.port}/secret`],
    ['non-http scheme', () => 'file:///etc/passwd'],
  ])('%s', async (_name, url) => {
    expect(await codeOf(fetchRemoteMedia(url(), limits))).toBe('url-not-allowed');
    expect(internal.requests).toEqual([]);
  });

  test.each(['/to-loopback', '/to-localhost', '/to-decimal', '/to-metadata'])(
    'a redirect from a public host %s is re-checked and refused',
    async (path) => {
      const code = await codeOf(
        fetchRemoteMedia(`${publicServer.base}${path}`, {
          ...limits,
          addressPolicy: defaultPolicyWithTestPublicHost,
        }),
      );
      expect(code).toBe('url-not-allowed');
      expect(publicServer.requests).toEqual([path]);
      expect(internal.requests).toEqual([]);
    },
  );

  test('DNS rebinding: the connection goes to the address that was checked', async () => {
    // First answer public, every later answer internal: a fetcher that resolved again
    // at connect time would reach the internal server.
    const answers: string[] = [];
    const rebinding: HostResolver = async () => {
      const address = answers.length === 0 ? PUBLIC_HOST : INTERNAL_HOST;
      answers.push(address);
      return [{ address, family: 4 }];
    };
    const fetched = await fetchRemoteMedia(`http://rebind.invalid:${publicServer.port}/image.png`, {
      ...limits,
      resolve: rebinding,
      addressPolicy: defaultPolicyWithTestPublicHost,
    });
    expect(fetched.address).toBe(PUBLIC_HOST);
    expect(fetched.bytes.equals(PNG_BYTES)).toBe(true);
    expect(answers).toEqual([PUBLIC_HOST]);
    expect(publicServer.requests).toEqual(['/image.png']);
    expect(internal.requests).toEqual([]);
  });

  test('a rebinding resolver whose next answer is internal is refused on the next hop', async () => {
    let calls = 0;
    const rebinding: HostResolver = async () => {
      calls += 1;
      return [{ address: calls === 1 ? PUBLIC_HOST : INTERNAL_HOST, family: 4 }];
    };
    // The public server redirects to the same name; its second answer is internal.
    const code = await codeOf(
      fetchRemoteMedia(`http://rebind.invalid:${publicServer.port}/to-same-name`, {
        ...limits,
        resolve: rebinding,
        addressPolicy: defaultPolicyWithTestPublicHost,
      }),
    );
    expect(code).toBe('url-not-allowed');
    expect(calls).toBe(2);
    expect(publicServer.requests).toEqual(['/to-same-name']);
    expect(internal.requests).toEqual([]);
  });
});

describe('streaming with the permissive test policy', () => {
  const permissive = { ...limits, addressPolicy: allowAnyAddressForTests };

  test('returns bytes, media type, final URL and address', async () => {
    const fetched = await fetchRemoteMedia(`${internal.base}/image.png`, {
      ...permissive,
      allowedContentTypes: ['image/*'],
    });
    expect(fetched).toMatchObject({
      contentType: 'image/png',
      url: `${internal.base}/image.png`,
      address: INTERNAL_HOST,
      redirects: [],
    });
    expect(fetched.bytes.equals(PNG_BYTES)).toBe(true);
  });

  test('follows up to 5 redirects, re-resolving each hop', async () => {
    const fetched = await fetchRemoteMedia(`${internal.base}/redirect/4`, permissive);
    expect(fetched.redirects).toHaveLength(5);
    expect(fetched.url).toBe(`${internal.base}/image.png`);
  });

  test('refuses a sixth redirect', async () => {
    expect(await codeOf(fetchRemoteMedia(`${internal.base}/redirect/5`, permissive))).toBe(
      'too-many-redirects',
    );
    expect(internal.requests).toHaveLength(6);
  });

  test('a chunked body past the cap is aborted', async () => {
    expect(await codeOf(fetchRemoteMedia(`${internal.base}/chunked`, permissive))).toBe(
      'too-large',
    );
    const fetched = await fetchRemoteMedia(`${internal.base}/chunked`, {
      ...permissive,
      maxBytes: 64 * 1024,
    });
    expect(fetched.bytes).toHaveLength(64 * 1024);
  });

  test('a declared Content-Length past the cap is refused before the body', async () => {
    const started = Date.now();
    expect(await codeOf(fetchRemoteMedia(`${internal.base}/declared-large`, permissive))).toBe(
      'too-large',
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('a Content-Length that under-states the body never yields more than the cap', async () => {
    const raw = await listenRaw(
      Buffer.concat([
        Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\n'),
        Buffer.alloc(50_000, 1),
      ]),
    );
    try {
      const fetched = await fetchRemoteMedia(`${raw.base}/`, { ...permissive, maxBytes: 1_000 });
      expect(fetched.bytes.length).toBe(100);
    } finally {
      await raw.close();
    }
  });

  test('a body shorter than its Content-Length is a retryable error', async () => {
    const raw = await listenRaw(
      Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nonly a little'),
    );
    try {
      expect(await codeOf(fetchRemoteMedia(`${raw.base}/`, permissive))).toMatch(/^plain: /);
    } finally {
      await raw.close();
    }
  });

  test('a server that stalls hits the deadline', async () => {
    const started = Date.now();
    expect(
      await codeOf(fetchRemoteMedia(`${internal.base}/slow`, { ...permissive, timeoutMs: 300 })),
    ).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('status and content-type rejections', async () => {
    expect(await codeOf(fetchRemoteMedia(`${internal.base}/missing`, permissive))).toBe(
      'fetch-failed',
    );
    expect(await codeOf(fetchRemoteMedia(`${internal.base}/no-location`, permissive))).toBe(
      'fetch-failed',
    );
    expect(await codeOf(fetchRemoteMedia(`${internal.base}/unavailable`, permissive))).toMatch(
      /^plain: .*HTTP 503/,
    );
    expect(
      await codeOf(
        fetchRemoteMedia(`${internal.base}/secret`, {
          ...permissive,
          allowedContentTypes: ['image/png', 'video/*'],
        }),
      ),
    ).toBe('unsupported-type');
  });

  test('an abort signal from the caller is thrown unchanged', async () => {
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    setTimeout(() => controller.abort(reason), 100);
    await expect(
      fetchRemoteMedia(`${internal.base}/slow`, { ...permissive, signal: controller.signal }),
    ).rejects.toBe(reason);
  });
});
