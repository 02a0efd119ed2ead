using System.Runtime.InteropServices;

namespace ServerlessBackup.Storage;

internal static partial class NativeMethods
{
    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Link(string oldPath, string newPath);
}
