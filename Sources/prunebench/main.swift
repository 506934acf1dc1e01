print("prunebench")
