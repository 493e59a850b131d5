print("bench")
runKernelBenchmarks()
