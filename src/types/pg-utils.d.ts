// node-postgres's value serialiser (pg/lib/utils.js) has no published types.
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): unknown };
  export default utils;
}
