/** engine: rule model, schema, loader, JSONata expressions and templates, evaluation to a Plan. No I/O. */
export {};
