// Sends identify, track and page calls to Alinea with Segment's official
// Node client, unchanged. server/ingest_compat_test.go runs it and then
// checks what Alinea stored. Exits non-zero if the client reports an error.
'use strict'

const { Analytics } = require('@segment/analytics-node')

const host = process.env.ALINEA_URL
const writeKey = process.env.ALINEA_WRITE_KEY
if (!host || !writeKey) {
  console.error('ALINEA_URL and ALINEA_WRITE_KEY must be set')
  process.exit(2)
}

const analytics = new Analytics({ writeKey, host, flushAt: 1, maxRetries: 1 })

let failed = false
analytics.on('error', (err) => {
  failed = true
  console.error('analytics-node error:', err && (err.reason || err.message || err))
})
analytics.on('http_response', (res) => {
  if (res.status !== 200) {
    failed = true
    console.error(`HTTP ${res.status} from ${res.url}`)
  }
})

analytics.identify({
  userId: 'node-user-1',
  anonymousId: 'node-anon-1',
  traits: { email: 'nora@node.example', firstName: 'Nora', lastName: 'Núñez', plan: 'trial' },
})
analytics.track({
  userId: 'node-user-1',
  event: 'Trial Started',
  properties: { plan: 'pro', seats: 5 },
  context: { campaign: { source: 'newsletter', medium: 'email', name: 'spring' } },
})
analytics.page({
  userId: 'node-user-1',
  category: 'Docs',
  name: 'Pricing',
  properties: { url: 'https://alinea.example/precios?utm_source=linkedin' },
})

analytics.closeAndFlush({ timeout: 20000 }).then(() => {
  if (failed) process.exit(1)
  console.log('sent 3 calls')
})
