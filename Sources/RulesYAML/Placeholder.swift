enum PlaceholderRulesYAML {}
