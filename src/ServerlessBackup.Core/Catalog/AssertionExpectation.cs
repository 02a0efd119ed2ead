namespace ServerlessBackup.Catalog;

/// <summary>What an assertion's query must return.</summary>
public enum AssertionExpectation
{
    /// <summary>No rows at all (e.g. orphaned attachments, duplicate mobile numbers).</summary>
    NoRows,
    /// <summary>The first column of the first row equals Value, compared as text.</summary>
    Equals,
    /// <summary>The first column of the first row is a number at least Value.</summary>
    AtLeast,
    /// <summary>The first column of the first row is a number at most Value.</summary>
    AtMost,
}
