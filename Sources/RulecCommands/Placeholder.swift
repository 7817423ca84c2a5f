enum PlaceholderRulecCommands {}
