import NurtureCLI

await NurtureCommand.start()
