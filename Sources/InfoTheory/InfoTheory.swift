// The InfoTheory module.
