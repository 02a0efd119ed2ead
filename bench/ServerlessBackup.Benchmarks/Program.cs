// Encryption throughput of the chunk path on one core, against raw AES-256-GCM over the same
// buffers in the same run (the baseline), so the ratio is meaningful on a noisy machine.
using System.Diagnostics;
using System.Security.Cryptography;
using ServerlessBackup.Crypto;
using ServerlessBackup.Secrets;

const int Chunk = 1024 * 1024;
var totalBytes = (long)(args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 2.0) * 1024 * 1024 * 1024;
var data = RandomNumberGenerator.GetBytes(Chunk);
var master = MasterKey.FromSecret(new SecretValue("bench", "1", MasterKey.GenerateSecretValue()));

double Baseline()
{
    using var aes = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
    var output = new byte[Chunk];
    var tag = new byte[16];
    var nonce = new byte[12];
    var clock = Stopwatch.StartNew();
    for (long done = 0; done < totalBytes; done += Chunk)
    {
        nonce[0]++;
        aes.Encrypt(nonce, data, output, tag, nonce);
    }

    return totalBytes / clock.Elapsed.TotalSeconds;
}

double ChunkPath()
{
    using var key = BackupKey.Create(master, "20260101T000000Z-bench1");
    using var writer = key.CreateArchiveWriter(Stream.Null, Chunk, PayloadEncoding.Plain);
    var clock = Stopwatch.StartNew();
    for (long done = 0; done < totalBytes; done += Chunk)
    {
        writer.Write(data, 0, Chunk);
    }

    writer.CompleteAsync().GetAwaiter().GetResult();
    return totalBytes / clock.Elapsed.TotalSeconds;
}

double Decrypt()
{
    using var key = BackupKey.Create(master, "20260101T000000Z-bench2");
    var stored = new MemoryStream();
    using (var writer = key.CreateArchiveWriter(stored, Chunk, PayloadEncoding.Plain))
    {
        for (var i = 0; i < 256; i++)
        {
            writer.Write(data, 0, Chunk);
        }

        writer.CompleteAsync().GetAwaiter().GetResult();
    }

    var clock = Stopwatch.StartNew();
    long read = 0;
    var buffer = new byte[Chunk];
    var rounds = Math.Max(1, totalBytes / (256L * Chunk));
    for (var r = 0; r < rounds; r++)
    {
        stored.Position = 0;
        var header = ArchiveHeader.ReadAsync(stored, "bench").GetAwaiter().GetResult();
        using var reader = key.CreateArchiveReader(new NonDisposing(stored), header, "bench");
        int n;
        while ((n = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            read += n;
        }
    }

    return read / clock.Elapsed.TotalSeconds;
}

Baseline(); // warm up
ChunkPath();
var baseline = Baseline();
var chunkPath = ChunkPath();
var decrypt = Decrypt();
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, AES-NI {System.Runtime.Intrinsics.X86.Aes.IsSupported}");
Console.WriteLine($"raw AES-256-GCM (baseline): {baseline / 1e9:0.00} GB/s on one core");
Console.WriteLine($"sbk chunk path, encrypt   : {chunkPath / 1e9:0.00} GB/s on one core (incl. SHA-256 of the ciphertext), ratio to baseline {chunkPath / baseline:0.00}");
Console.WriteLine($"sbk chunk path, decrypt   : {decrypt / 1e9:0.00} GB/s on one core, ratio to baseline {decrypt / baseline:0.00}");

sealed class NonDisposing(Stream inner) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => inner.Position = value; }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
