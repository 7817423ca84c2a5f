import RulecCommands

Rulec.main()
