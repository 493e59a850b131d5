// The ActivationStore module.
