using System.Text;
using ServerlessBackup.Restore;

namespace ServerlessBackup.Tests;

public sealed class ScratchNameTests
{
    [Theory]
    [InlineData("shop")]
    [InlineData("Customer-Portal_EU-West-1-production-database-with-a-very-long-name-x")]
    [InlineData("A")]
    public void Scratch_names_carry_prefix_source_backup_and_expiry_within_63_bytes(string source)
    {
        var expires = new DateTimeOffset(2026, 11, 22, 10, 8, 0, TimeSpan.Zero);

        var name = ScratchNames.Create(source, "20261121T084627Z-k3f9x2", expires);

        Assert.True(Encoding.UTF8.GetByteCount(name) <= 63, name);
        Assert.Matches("^sbk_scratch_[a-z0-9_]+_20261121084627k3f9x2_x2611221008_[0-9a-f]{4}$", name);
        Assert.StartsWith("sbk_scratch_" + source.ToLowerInvariant().Replace('-', '_')[..Math.Min(source.Length, 5)], name, StringComparison.Ordinal);
        Assert.NotEqual(name, ScratchNames.Create(source, "20261121T084627Z-k3f9x2", expires));
    }

    [Fact]
    public void Only_a_prefixed_name_with_a_valid_marker_is_a_scratch_database()
    {
        var created = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        var marker = ScratchNames.MarkerFor("shop", "20261121T084627Z-k3f9x2", created, created.AddHours(24));

        var parsed = ScratchNames.Parse("sbk_scratch_shop_x", marker, 42);

        Assert.Equal(new ScratchDatabase("sbk_scratch_shop_x", "shop", "20261121T084627Z-k3f9x2", created, created.AddHours(24), 42), parsed);
        Assert.Null(ScratchNames.Parse("shop_copy", marker, 42));
        Assert.Null(ScratchNames.Parse("sbk_scratch_shop_x", null, 42));
        Assert.Null(ScratchNames.Parse("sbk_scratch_shop_x", "a note someone wrote", 42));
        Assert.Null(ScratchNames.Parse("sbk_scratch_shop_x", "{\"Kind\":\"other\",\"Version\":1}", 42));
    }
}
