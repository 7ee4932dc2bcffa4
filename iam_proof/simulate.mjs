// Evaluate a batch of IAM requests with @cloud-copilot/iam-simulate: JSON on stdin, JSON on stdout.
// In:  {"policies": {role: policy}, "resourcePolicies": {arn: policy}, "requests": [
//        {"role": role | null, "principal": arn, "action": a, "resource": arn, "account": id,
//         "context": {...}, "resourcePolicy": arn | null}]}
// Out: [{"result": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Error",
//        "grants": [sid of each identity statement that allowed it], "error": text}]
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const batch = JSON.parse(Buffer.concat(chunks).toString('utf8'))

async function evaluate(request) {
  const simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.account },
      contextVariables: request.context || {}
    },
    identityPolicies: request.role ? [{ name: request.role, policy: batch.policies[request.role] }] : [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy ? batch.resourcePolicies[request.resourcePolicy] : undefined
  }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    return { result: 'Error', grants: [], error: response.errors.message }
  }
  const results = response.resultType === 'single' ? [response.result] : response.results
  const grants = new Set()
  for (const result of results) {
    for (const s of result.analysis?.identityAnalysis?.allowStatements || []) grants.add(s.explain.identifier)
  }
  const ignored = results.flatMap((r) => r.ignoredContextKeys || [])
  return { result: response.overallResult, grants: [...grants], ignoredContextKeys: ignored }
}

const out = []
for (const request of batch.requests) out.push(await evaluate(request))
process.stdout.write(JSON.stringify(out))
