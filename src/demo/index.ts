/** The demo season: a whole campaign loop driven through the real HTTP API (`earnest demo`). */
export {
  type DemoResult,
  type DemoStatement,
  runDemo,
} from './demo.js';
