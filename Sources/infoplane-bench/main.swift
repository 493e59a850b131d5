print("bench")
runPlottingBenchmarks()
