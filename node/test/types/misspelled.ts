// Options are typed one by one, with no index signature: a misspelled
// option is a compile error, as with @types/opossum. tsc fails this file
// if an @ts-expect-error below has no error to expect.
import CircuitBreaker from 'fusewire';

const action = async (id: number) => id;

// @ts-expect-error: errorTresholdPercentage is not an option
new CircuitBreaker(action, { errorTresholdPercentage: 50 });
// @ts-expect-error: resetTimeOut is not an option
new CircuitBreaker(action, { resetTimeOut: 1000 });
// @ts-expect-error: timeout is a number of ms or false
new CircuitBreaker(action, { timeout: true });
// @ts-expect-error: configure() takes the same options
new CircuitBreaker(action).configure({ volumeTreshold: 5 });
const fine: CircuitBreaker.Options = { errorThresholdPercentage: 50, volumeThreshold: 5, halfOpenProbes: 2 };
console.log(fine);
import { chaos, Pool } from 'fusewire';
// @ts-expect-error: faultrate is not a chaos option
chaos(action, { faultrate: 10 });
// @ts-expect-error: baseEjectionTimeout is not a Pool option
new Pool(['http://a'], { baseEjectionTimeout: 10 });
import { Breaker, RetryBudget, RedisStore } from 'fusewire';
const fleetStore = new RedisStore('redis://127.0.0.1:6379');
// @ts-expect-error: a Breaker in a RedisStore answers with a promise
console.log(new Breaker({ store: fleetStore, name: 'b' }).tryAcquire().admitted);
// @ts-expect-error: its permits are strings
new Breaker({ store: fleetStore, name: 'b' }).release(3);
// @ts-expect-error: a RetryBudget in a RedisStore answers with a promise
const sure: boolean = new RetryBudget({ store: fleetStore, name: 'r' }).tryRetry();
console.log(sure);
