// Starts `rulec lsp` for .rule, .ruletest and rulec's YAML files, and passes the `rulec` settings
// (concepts file, recording) to it, at start and whenever they change.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function settings() {
  const config = vscode.workspace.getConfiguration("rulec");
  return { concepts: config.get("concepts", ""), recording: config.get("recording", "") };
}

async function activate(context) {
  const command = vscode.workspace.getConfiguration("rulec").get("path", "rulec");
  const serverOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "rulec" },
      { scheme: "file", language: "rulec-test" },
      { scheme: "file", pattern: "**/*.ruletest.{yaml,yml}" },
    ],
    initializationOptions: settings(),
    // didChangeConfiguration carries the `rulec` section; the server re-checks open documents.
    synchronize: { configurationSection: "rulec" },
  };
  client = new LanguageClient("rulec", "rulec", serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
