// Saved queries and a workbook over the audit events (docs/audit.md), deployed
// with the rest so an operator can answer "who called what, what was refused,
// what failed, what was slow" without writing KQL. Both read the Log Analytics
// tables behind the workspace-based Application Insights component:
// customEvents there is AppEvents here, traces is AppTraces.

@description('Name of the Log Analytics workspace the component writes to.')
param workspaceName string

@description('Azure region (for the workbook).')
param location string

@description('Tags for the workbook.')
param tags object

@description('Display name of the workbook.')
param workbookDisplayName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

// The caller as the audit event names it; with Functions keys there is no
// person, so the auth mode stands in.
var callerExpression = 'coalesce(tostring(Properties.callerName), tostring(Properties.callerObjectId), strcat("(", tostring(Properties.authMode), ", no user)"))'

var queries = [
  {
    id: 'mcp-audit-calls-by-tool-and-caller'
    displayName: 'MCP audit: calls per tool and caller'
    visualization: 'table'
    query: '''
AppEvents
| where Name == "mcp.tool.call"
| extend tool = tostring(Properties.tool), outcome = tostring(Properties.outcome),
         caller = CALLER, durationMs = todouble(Measurements.durationMs)
| summarize calls = count(), succeeded = countif(outcome == "success"), failed = countif(outcome == "error"),
            denied = countif(outcome == "denied"), p50Ms = percentile(durationMs, 50),
            p95Ms = percentile(durationMs, 95), lastCall = max(TimeGenerated)
    by tool, caller
| order by calls desc
'''
  }
  {
    id: 'mcp-audit-denials'
    displayName: 'MCP audit: denied calls and requests'
    visualization: 'table'
    query: '''
AppEvents
| where Name in ("mcp.tool.call", "mcp.request.rejected")
| where tostring(Properties.outcome) == "denied"
| project TimeGenerated, event = Name, errorClass = tostring(Properties.errorClass),
          tool = tostring(Properties.tool), caller = CALLER, origin = tostring(Properties.origin),
          path = tostring(Properties.path), statusCode = tostring(Properties.statusCode),
          userAgent = tostring(Properties.userAgent), requestId = tostring(Properties.requestId)
| order by TimeGenerated desc
'''
  }
  {
    id: 'mcp-audit-errors'
    displayName: 'MCP audit: errors by class and tool'
    visualization: 'table'
    query: '''
AppEvents
| where Name in ("mcp.tool.call", "mcp.request.rejected")
| where tostring(Properties.outcome) == "error"
| extend errorClass = tostring(Properties.errorClass),
         tool = coalesce(tostring(Properties.tool), strcat("(request ", tostring(Properties.path), ")"))
| summarize errors = count(), callers = dcount(CALLER), lastSeen = max(TimeGenerated),
            sampleRequestId = take_any(tostring(Properties.requestId))
    by errorClass, tool
| order by errors desc
'''
  }
  {
    id: 'mcp-audit-slowest-calls'
    displayName: 'MCP audit: slowest calls'
    visualization: 'table'
    query: '''
AppEvents
| where Name == "mcp.tool.call"
| extend durationMs = todouble(Measurements.durationMs)
| top 50 by durationMs desc
| project TimeGenerated, durationMs, tool = tostring(Properties.tool), outcome = tostring(Properties.outcome),
          target = tostring(Properties.target), rows = todouble(Measurements.resultRows),
          truncated = tostring(Properties.truncated), caller = CALLER, queryText = tostring(Properties.queryText),
          requestId = tostring(Properties.requestId), upstreamRequestId = tostring(Properties.upstreamRequestId)
'''
  }
  {
    id: 'mcp-audit-stdout-fallback'
    displayName: 'MCP audit: events that fell back to stdout'
    visualization: 'table'
    // When the Application Insights worker cannot deliver, the app writes the
    // events as JSON lines on stdout (and says so on stderr); the Functions
    // host forwards both as traces.
    query: '''
AppTraces
| where Message has "mcp.tool.call" or Message has "mcp.request.rejected" or Message startswith "audit: "
| extend line = extract(@'(\{"time".*\})', 1, Message)
| extend e = parse_json(line)
| project TimeGenerated,
          kind = iff(isnotempty(line), "audit event written to stdout", "audit delivery problem"),
          event = tostring(e.event), tool = tostring(e.tool), outcome = tostring(e.outcome),
          requestId = tostring(e.requestId), Message, AppRoleName, SeverityLevel
| order by TimeGenerated desc
'''
  }
  {
    id: 'mcp-audit-rejections-over-time'
    displayName: 'MCP audit: refused requests over time'
    visualization: 'timechart'
    query: '''
AppEvents
| where Name == "mcp.request.rejected"
| summarize requests = count() by errorClass = tostring(Properties.errorClass), bin(TimeGenerated, 1h)
| render timechart
'''
  }
]

var expandedQueries = map(queries, q => union(q, { query: replace(q.query, 'CALLER', callerExpression) }))

resource savedSearches 'Microsoft.OperationalInsights/workspaces/savedSearches@2020-08-01' = [
  for q in expandedQueries: {
    parent: workspace
    name: q.id
    properties: {
      category: 'MCP audit'
      displayName: q.displayName
      query: q.query
      version: 2
    }
  }
]

var workbookContent = {
  version: 'Notebook/1.0'
  items: concat(
    [
      {
        type: 1
        name: 'intro'
        content: {
          json: '## MCP audit\nOne event per tool call and per refused request (schema: docs/audit.md in the repository). With Functions keys callers are anonymous and shown by auth mode.'
        }
      }
      {
        type: 9
        name: 'parameters'
        content: {
          version: 'KqlParameterItem/1.0'
          style: 'pills'
          queryType: 0
          resourceType: 'microsoft.operationalinsights/workspaces'
          parameters: [
            {
              id: guid(workspaceName, 'TimeRange')
              version: 'KqlParameterItem/1.0'
              name: 'TimeRange'
              label: 'Time range'
              type: 4
              isRequired: true
              value: {
                durationMs: 86400000
              }
              typeSettings: {
                selectableValues: [
                  { durationMs: 3600000 }
                  { durationMs: 86400000 }
                  { durationMs: 604800000 }
                  { durationMs: 2592000000 }
                ]
              }
            }
          ]
        }
      }
    ],
    map(expandedQueries, q => {
      type: 3
      name: q.id
      content: {
        version: 'KqlItem/1.0'
        title: q.displayName
        query: q.query
        size: 0
        timeContextFromParameter: 'TimeRange'
        queryType: 0
        resourceType: 'microsoft.operationalinsights/workspaces'
        visualization: q.visualization
      }
    })
  )
  fallbackResourceIds: [
    workspace.id
  ]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // Workbook names must be GUIDs; this one is stable per workspace.
  name: guid(workspace.id, 'mcp-audit-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: workbookDisplayName
    category: 'workbook'
    sourceId: toLower(workspace.id)
    serializedData: string(workbookContent)
    version: 'Notebook/1.0'
  }
}

@description('Names of the saved queries (Log Analytics > Queries > category "MCP audit").')
output savedSearchNames array = [for q in queries: q.id]

@description('Resource id of the audit workbook.')
output workbookId string = workbook.id
