// The package entry: see assembly/index.ts.
export * from "./assembly/index";
