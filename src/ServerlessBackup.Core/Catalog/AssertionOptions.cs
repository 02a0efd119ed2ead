namespace ServerlessBackup.Catalog;

/// <summary>
/// A check run against a restored copy of a database: a read-only query and what it must return.
/// Example: <c>{ "Name": "users exist", "Sql": "SELECT count(*) FROM users", "Expect": "AtLeast", "Value": "1" }</c>.
/// </summary>
public sealed class AssertionOptions
{
    /// <summary>A short name shown in reports.</summary>
    public string? Name { get; set; }

    /// <summary>The query; it runs in a read-only transaction on the restored copy.</summary>
    public string? Sql { get; set; }

    /// <summary>What the query must return.</summary>
    public AssertionExpectation Expect { get; set; } = AssertionExpectation.NoRows;

    /// <summary>The expected value for Equals (compared as text) or the bound for AtLeast / AtMost (a number).</summary>
    public string? Value { get; set; }
}
