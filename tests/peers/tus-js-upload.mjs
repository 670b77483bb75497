// Uploads one file with tus-js-client, the independent client the ferry tests
// run against `ferry serve`. Usage:
//   node tus-js-upload.mjs <endpoint> <file> <protocol> <relative path> [chunk size]
// protocol: tus-v1, ietf-draft-03 or ietf-draft-05. Prints the upload URL.
//
// The file is read into a Buffer: tus-js-client 4.3.1's fs.ReadStream source
// never marks a chunk of a multi-chunk upload as the last one, so in its IETF
// modes it would never send `Upload-Complete: ?1`. Its Buffer source does.
import { readFileSync } from 'node:fs'
import { Upload } from 'tus-js-client'

const [endpoint, file, protocol, relativePath, chunkSize] = process.argv.slice(2)
const upload = new Upload(readFileSync(file), {
  endpoint,
  protocol,
  chunkSize: chunkSize ? Number(chunkSize) : 8 * 1024 * 1024,
  metadata: { relativePath, filename: relativePath.split('/').pop() },
  retryDelays: [],
  onError(error) {
    console.error(`tus-js-client failed: ${error.message}`)
    process.exit(1)
  },
  onSuccess() {
    console.log(upload.url)
  },
})
upload.start()
