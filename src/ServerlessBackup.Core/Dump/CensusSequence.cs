namespace ServerlessBackup.Dump;

/// <summary>One sequence's state when the dump was taken.</summary>
/// <param name="Schema">Schema name.</param>
/// <param name="Name">Sequence name.</param>
/// <param name="LastValue">last_value.</param>
/// <param name="IsCalled">is_called.</param>
public sealed record CensusSequence(string Schema, string Name, long LastValue, bool IsCalled);
