/**
 * Exact binomial tails for the cohort rules, through the regularised incomplete beta function
 * (P(X ≥ k) = I_p(k, n−k+1)), so they hold from a handful of conversions to millions of clicks and keep
 * their relative precision deep in the tail (p-values of 1e-30 and below), where `1 − cdf` would round
 * to 0. Lanczos log-gamma and Lentz's continued fraction, as in Numerical Recipes §6.1 and §6.4.
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const EPSILON = 1e-15;
const TINY = 1e-300;

/** The continued fraction of I_x(a, b), converging for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  // Iterations grow like √max(a, b): a million trials needs about a thousand.
  const maxIterations = 1000 + 10 * Math.ceil(Math.sqrt(Math.max(a, b)));
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) return h;
  }
  throw new RangeError(`incomplete beta did not converge for a=${a}, b=${b}, x=${x}`);
}

/** The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function checkTrials(k: number, n: number, p: number): void {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || !(p >= 0 && p <= 1)) {
    throw new RangeError(`binomial tail needs integers n ≥ 0, k and 0 ≤ p ≤ 1 (got k=${k}, n=${n}, p=${p})`);
  }
}

/** P(X ≤ k) for X ~ Binomial(n, p): the lower tail, the p-value of "too few successes". */
export function binomialCdf(k: number, n: number, p: number): number {
  checkTrials(k, n, p);
  if (k < 0) return 0;
  if (k >= n) return 1;
  return regularizedBeta(1 - p, n - k, k + 1);
}

/** P(X ≥ k) for X ~ Binomial(n, p): the upper tail, the p-value of "too many successes". */
export function binomialSf(k: number, n: number, p: number): number {
  checkTrials(k, n, p);
  if (k <= 0) return 1;
  if (k > n) return 0;
  return regularizedBeta(p, k, n - k + 1);
}
