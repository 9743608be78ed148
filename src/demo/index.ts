/** The face of src/demo/: see ./demo.ts. */
export {
  type DemoResult,
  type DemoStatement,
  runDemo,
} from './demo.js';
