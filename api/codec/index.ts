export { codecRoutes, type CodecRoutesOptions } from './codec-routes';
