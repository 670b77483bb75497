// Uploads every file of a folder with tus-js-client, one after another, in
// one process: the sequential baseline of the small-files benchmark.
// Usage: node tus-js-many.mjs <endpoint> <folder>. Prints the file count.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Upload } from 'tus-js-client'

const [endpoint, folder] = process.argv.slice(2)
const names = readdirSync(folder).sort()
for (const name of names) {
  await new Promise((resolve, reject) => {
    const upload = new Upload(readFileSync(join(folder, name)), {
      endpoint,
      protocol: 'tus-v1',
      metadata: { relativePath: `tus-js/${name}`, filename: name },
      retryDelays: [],
      onError: reject,
      onSuccess: resolve,
    })
    upload.start()
  })
}
console.log(names.length)
