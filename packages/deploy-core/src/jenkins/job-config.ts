import {XMLParser} from 'fast-xml-parser';
import {compareAsLocale} from '@bcl/core/text';

/** What the pipeline job of a service is made of. */
export interface PipelineJobInput {
  service: string;
  team: string;
  description?: string | undefined;
  /** The git repository Jenkins checks out. */
  repositoryUrl: string;
  /** Jenkins credentials id for the repository; none for public or agent-keyed repositories. */
  credentialsId?: string | undefined;
  /** Branch used when GIT_SHA is left empty. */
  defaultBranch: string;
  /** Path of the Jenkinsfile in the repository. */
  scriptPath: string;
  /** How many builds Jenkins keeps. */
  keepBuilds?: number;
}

/** The build parameters every svctl pipeline job takes, in order. */
export const PIPELINE_PARAMETERS = ['GIT_SHA', 'IMAGE_TAG', 'ENV'] as const;

/**
 * The config.xml of a pipeline job that runs the service's Jenkinsfile from its repository at
 * GIT_SHA. It lists every element Jenkins itself writes back for such a job, so a configuration
 * read back from Jenkins compares equal and an unchanged job is left alone.
 */
export function renderJobConfig(input: PipelineJobInput): string {
  const x = escapeXml;
  const description = input.description ?? `Builds ${input.service} (team ${input.team}). Managed by svctl pipeline sync: edits here are overwritten.`;
  const param = (name: string, defaultValue: string, text: string) => `        <hudson.model.StringParameterDefinition>
          <name>${name}</name>
          <description>${x(text)}</description>
          <defaultValue>${x(defaultValue)}</defaultValue>
          <trim>true</trim>
        </hudson.model.StringParameterDefinition>`;
  return `<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin="workflow-job">
  <actions/>
  <description>${x(description)}</description>
  <keepDependencies>false</keepDependencies>
  <properties>
    <jenkins.model.BuildDiscarderProperty>
      <strategy class="hudson.tasks.LogRotator">
        <daysToKeep>-1</daysToKeep>
        <numToKeep>${input.keepBuilds ?? 50}</numToKeep>
        <artifactDaysToKeep>-1</artifactDaysToKeep>
        <artifactNumToKeep>-1</artifactNumToKeep>
      </strategy>
    </jenkins.model.BuildDiscarderProperty>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
${param('GIT_SHA', input.defaultBranch, 'The commit (or ref) to build.')}
${param('IMAGE_TAG', '', 'The tag of the image to build and push; default: the commit.')}
${param('ENV', '', 'When set, deploy the image to this environment after the build (svctl deploy).')}
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition" plugin="workflow-cps">
    <scm class="hudson.plugins.git.GitSCM" plugin="git">
      <configVersion>2</configVersion>
      <userRemoteConfigs>
        <hudson.plugins.git.UserRemoteConfig>
          <url>${x(input.repositoryUrl)}</url>${input.credentialsId ? `\n          <credentialsId>${x(input.credentialsId)}</credentialsId>` : ''}
        </hudson.plugins.git.UserRemoteConfig>
      </userRemoteConfigs>
      <branches>
        <hudson.plugins.git.BranchSpec>
          <name>\${GIT_SHA}</name>
        </hudson.plugins.git.BranchSpec>
      </branches>
      <doGenerateSubmoduleConfigurations>false</doGenerateSubmoduleConfigurations>
      <submoduleCfg class="empty-list"/>
      <extensions/>
    </scm>
    <scriptPath>${x(input.scriptPath)}</scriptPath>
    <lightweight>false</lightweight>
  </definition>
  <triggers/>
  <disabled>false</disabled>
</flow-definition>
`;
}

/**
 * A canonical form of a job configuration for comparison: the XML declaration, whitespace between
 * elements and the `plugin="name@version"` attributes Jenkins adds (they change with every plugin
 * update) are left out; element order, attributes and text are kept.
 */
export function normaliseJobConfig(xml: string): string {
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    ignoreDeclaration: true,
    ignorePiTags: true,
    trimValues: true,
    parseTagValue: false,
    parseAttributeValue: false,
    commentPropName: '#comment',
  });
  const tree = parser.parse(xml) as Node[];
  return JSON.stringify(canonical(tree));
}

type Node = Record<string, unknown>;

function canonical(nodes: Node[]): unknown[] {
  const out: unknown[] = [];
  for (const node of nodes) {
    for (const [key, value] of Object.entries(node)) {
      if (key === ':@' || key === '#comment') continue;
      if (key === '#text') {
        const text = String(value).trim();
        if (text) out.push({'#text': text});
        continue;
      }
      const attrs = Object.entries((node[':@'] as Record<string, string> | undefined) ?? {})
        .filter(([name]) => name !== '@plugin')
        .sort(([a], [b]) => compareAsLocale(a, b));
      out.push({[key]: canonical(value as Node[]), ...(attrs.length ? {attrs: Object.fromEntries(attrs)} : {})});
    }
  }
  return out;
}

/** Whether two configurations mean the same job. */
export function sameJobConfig(a: string, b: string): boolean {
  return normaliseJobConfig(a) === normaliseJobConfig(b);
}

/** A short line diff of two configurations (normalised whitespace), for --dry-run and the result. */
export function configDiff(current: string, wanted: string): string[] {
  const strip = (xml: string) =>
    xml
      .replace(/^<\?xml[^>]*\?>\s*/, '')
      .replace(/ plugin="[^"]*"/g, '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  const a = strip(current);
  const b = strip(wanted);
  const lines: string[] = [];
  // A longest-common-subsequence diff: configurations are a few hundred lines at most.
  const dp: number[][] = Array.from({length: a.length + 1}, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || dp[i]![j + 1]! >= dp[i + 1]![j]!)) lines.push(`+ ${b[j++]}`);
    else lines.push(`- ${a[i++]}`);
  }
  return lines;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
