/** Resolved by build.mjs (esbuild plugin) to the compiled JSON of the bundle being built. */
declare module "c2c:compiled-bundle" {
  const compiled: unknown;
  export default compiled;
}
