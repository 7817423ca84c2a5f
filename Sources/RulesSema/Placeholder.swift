enum PlaceholderRulesSema {}
