import { cacheKeyOf } from '../../models/response-cache';
import type { ModelRequest } from '../../models/model-provider';

const request: ModelRequest = {
  system: 'You review code.',
  messages: [{ role: 'user', text: 'Review this' }],
  temperature: 0,
};

test('tenants never share a response cache entry', () => {
  expect(cacheKeyOf('p:m', request, 'acme')).not.toBe(cacheKeyOf('p:m', request, 'globex'));
  expect(cacheKeyOf('p:m', request, 'acme')).not.toBe(cacheKeyOf('p:m', request));
  expect(cacheKeyOf('p:m', request, 'acme')).toBe(cacheKeyOf('p:m', { ...request }, 'acme'));
});
