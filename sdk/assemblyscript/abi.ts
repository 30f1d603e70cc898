// The ABI exports a module re-exports from its entry file: see assembly/abi.ts.
export * from "./assembly/abi";
