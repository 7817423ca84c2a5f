import RulecCommands

/// The `rulec` executable: only the entry point; the commands live in `RulecCommands`.
@main
enum RulecMain {
  static func main() async {
    await Rulec.main()
  }
}
