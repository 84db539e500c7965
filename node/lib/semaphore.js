'use strict';

// opossum's `breaker.semaphore` ({ take, release, test, count }). `test()`
// takes a slot without allocating (opossum's allocates a promise per call);
// the methods live on the prototype, so a breaker carries two fields, not
// four closures.
class Semaphore {
  constructor (count) {
    this.counter = count;
    this.waiters = null;
    this._release = null;
  }

  get count () { return this.counter; }

  release () {
    this.counter++;
    if (this.waiters !== null && this.waiters.length > 0) this.waiters.shift()();
  }

  /** Resolves with a function that releases the slot taken. */
  take (timeout) {
    if (this._release === null) this._release = () => this.release();
    const release = this._release;
    if (this.counter > 0) {
      --this.counter;
      return Promise.resolve(release);
    }
    if (this.waiters === null) this.waiters = [];
    const waiters = this.waiters;
    return new Promise((resolve, reject) => {
      waiters.push(() => {
        --this.counter;
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

  test () {
    if (this.counter < 1) return false;
    --this.counter;
    return true;
  }
}

// opossum's module exports a factory: `semaphore(count)`.
function semaphore (count) {
  return new Semaphore(count);
}

module.exports = semaphore;
module.exports.Semaphore = Semaphore;
