// Written against @types/opossum: must compile unchanged on fusewire's types.
import CircuitBreaker from 'fusewire';

async function getUser(id: number): Promise<{ id: number; name: string }> {
  return { id, name: 'x' };
}

const options: CircuitBreaker.Options = {
  timeout: 3000,
  errorThresholdPercentage: 50,
  resetTimeout: 30000,
  rollingCountTimeout: 10000,
  rollingCountBuckets: 10,
  name: 'users',
  capacity: 10,
  errorFilter: (err: any) => err.statusCode === 404,
  cache: true,
  cacheTTL: 1000,
  cacheGetKey: (...args: any[]) => String(args[0]),
};
const breaker = new CircuitBreaker(getUser, options);
breaker.fallback(() => ({ id: 0, name: 'anon' }));
breaker.on('success', (result, latencyMs: number) => console.log(result.name, latencyMs));
breaker.on('failure', (err: Error) => console.log(err.message));
breaker.on('halfOpen', (resetTimeout: number) => console.log(resetTimeout));
breaker.on('open', () => undefined);
breaker.status.on('snapshot', (s: CircuitBreaker.Stats) => console.log(s.latencyMean, s.percentiles[0.5]));
const stats: CircuitBreaker.Stats = breaker.stats;
const w: CircuitBreaker.Window = breaker.status.window;
const st: CircuitBreaker.Status = CircuitBreaker.newStatus({ rollingCountBuckets: 5 });
const p: Promise<{ id: number; name: string }> = breaker.fire(1);
breaker.healthCheck(async () => undefined, 1000);
console.log(stats.fires, w.length, st.stats.fires, breaker.opened, breaker.halfOpen, CircuitBreaker.isOurError(new Error()), p);
breaker.shutdown();
