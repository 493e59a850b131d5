// The NeuralNets module.
