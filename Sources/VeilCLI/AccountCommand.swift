import ArgumentParser

struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Privacy accountants: ε of a DP-SGD run, or the noise multiplier for a target ε.")
}
