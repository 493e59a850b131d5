print("bench")
runInfoTheoryBenchmarks()
