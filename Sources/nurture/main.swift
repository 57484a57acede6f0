import NurtureCLI

EarlySignals.catchForServe()
await NurtureCommand.start()
