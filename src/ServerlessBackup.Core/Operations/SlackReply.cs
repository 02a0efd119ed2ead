using System.Text.Json.Serialization;

namespace ServerlessBackup.Operations;

/// <summary>A message to Slack in answer to a slash command (the field names are Slack's): <c>ephemeral</c> to the caller, <c>in_channel</c> to everyone.</summary>
internal sealed record SlackReply([property: JsonPropertyName("response_type")] string ResponseType, string Text);
