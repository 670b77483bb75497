// @tus/server with @tus/file-store on 127.0.0.1, the npm tus server peer.
// Usage: node tus-node-server.mjs <port> <upload dir>
// Prints "listening on http://127.0.0.1:<port>/files/" once it accepts uploads.
import http from 'node:http'
import { FileStore } from '@tus/file-store'
import { Server } from '@tus/server'

const [port, directory] = process.argv.slice(2)
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) })
const server = http.createServer((req, res) => tus.handle(req, res))
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/files/`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
