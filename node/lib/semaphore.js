'use strict';

// opossum's `breaker.semaphore` ({ take, release, test, count }). `test()`
// takes a slot without allocating (opossum's allocates a promise per call).
function semaphore (count) {
  const waiters = [];
  let counter = count;

  function release () {
    counter++;
    if (waiters.length > 0) waiters.shift()();
  }

  function take (timeout) {
    if (counter > 0) {
      --counter;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      waiters.push(() => {
        --counter;
        resolve(release);
      });
      if (timeout) {
        setTimeout(() => {
          waiters.shift();
          const err = new Error(`Timed out after ${timeout}ms`);
          err.code = 'ETIMEDOUT';
          reject(err);
        }, timeout);
      }
    });
  }

  function test () {
    if (counter < 1) return false;
    --counter;
    return true;
  }

  const sem = { take, release, test };
  Object.defineProperty(sem, 'count', { get: () => counter, enumerable: true });
  return sem;
}

module.exports = semaphore;
